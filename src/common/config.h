/* SPDX-License-Identifier: MIT */
/* Names and defaults every part of Cocoon agrees on. */
#ifndef COCOON_CONFIG_H
#define COCOON_CONFIG_H

#define COCOON_VERSION "0.1.0"
#define COCOON_DEFAULT_HOST "127.0.0.1"
#define COCOON_DEFAULT_PORT 7787
#define COCOON_DEFAULT_CKPT_DIR "ckpt"
#define COCOON_KEEP_GENERATIONS 2

/* Environment passed from the cocoon command to the runtime and coordinator. */
#define ENV_COORD "COCOON_COORD"       /* HOST:PORT, numeric host */
#define ENV_CKPT_DIR "COCOON_CKPT_DIR" /* absolute directory */
#define ENV_SECRET "COCOON_SECRET"     /* the computation's secret */
#define ENV_LOG "COCOON_LOG"           /* "debug" for per-process logs */
#define ENV_SIGNAL "COCOON_SIGNAL"     /* override the suspend signal */
#define ENV_FILE_POLICY "COCOON_FILE_POLICY" /* PATTERN=POLICY lines (--file-policy) */
#define ENV_FORKED "COCOON_FORKED" /* "1": checkpoints use a forked writer (--forked) */
#define ENV_COMPRESS "COCOON_COMPRESS" /* "zstd[:LEVEL]" (--compress) */
#define ENV_INCREMENTAL "COCOON_INCREMENTAL" /* "1": incremental checkpoints */
#define ENV_DIRECT "COCOON_DIRECT" /* "1": image data written with O_DIRECT (--direct) */
#define ENV_IMAGE_STREAM "COCOON_IMAGE_STREAM" /* images piped to this command */
#define ENV_TRACK "COCOON_TRACK" /* "hash": incremental by page hashes (tests) */
#define ENV_FAULT "COCOON_FAULT"       /* fault injection point, for tests */

/* Names inside a checkpoint directory. */
#define CKPT_LATEST "latest"       /* holds "gen-NNNNNN\n" */
#define CKPT_MANIFEST "MANIFEST"   /* inside each gen-NNNNNN directory */
#define CKPT_GEN_FMT "gen-%06llu"

#endif
