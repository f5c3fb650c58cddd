/* SPDX-License-Identifier: MIT */
/*
 * The checkpoint directory: DIR/latest, DIR/gen-NNNNNN/ and the MANIFEST in
 * each generation (docs/protocol.md, "Checkpoint directory").
 *
 * The coordinator writes manifests and moves `latest`; `cocoon restart` and
 * `cocoon inspect` read them.  Plain libc, no global state; the only
 * allocation is the image array of a struct manifest.
 */
#ifndef COCOON_MANIFEST_H
#define COCOON_MANIFEST_H

#include <stddef.h>

#define MANIFEST_MAGIC "cocoon-manifest"
#define MANIFEST_VERSION 1
#define MANIFEST_MAX_IMAGES 65536

struct manifest_image {
	long long vpid;
	long long vppid;
	char host[256];
	char name[256];
	char path[4096]; /* absolute after manifest_read (when gen_dir is) */
};

#define MANIFEST_MAX_NEEDS 64

struct manifest {
	unsigned long long gen;
	long long time; /* unix seconds */
	/* earlier generations whose images hold pages of this one
	 * (incremental checkpoints): pruning keeps them */
	unsigned long long needs[MANIFEST_MAX_NEEDS];
	int nneeds;
	int n;          /* images in use */
	int cap;        /* allocated */
	struct manifest_image *img; /* malloc'd; manifest_free() */
};

/* Empty manifest (no allocation). */
void manifest_init(struct manifest *m);
void manifest_free(struct manifest *m);

/* Note that this generation needs generation g (no duplicates kept).
 * 0 or -E2BIG. */
int manifest_need(struct manifest *m, unsigned long long g);

/* Append a copy of im.  0 or -ENOMEM / -E2BIG. */
int manifest_add(struct manifest *m, const struct manifest_image *im);

/* Read GEN_DIR/MANIFEST into m (m need not be initialised; free it with
 * manifest_free() on success; on failure nothing stays allocated).  Image
 * paths stored relative to the generation directory come back joined with
 * gen_dir.  0, -ENOENT (no manifest), -EBADMSG (malformed), or -errno. */
int manifest_read(const char *gen_dir, struct manifest *m);

/* Write GEN_DIR/MANIFEST atomically (MANIFEST.tmp, fsync, rename, fsync of
 * the directory), mode 0600.  Images inside gen_dir are stored by their
 * base name so the directory can be moved.  0 or -errno. */
int manifest_write(const char *gen_dir, const struct manifest *m);

/* "gen-NNNNNN" -> number.  0 or -EINVAL. */
int ckpt_parse_gen_name(const char *name, unsigned long long *gen);

/* CKPT_DIR/gen-NNNNNN into out.  0 or -ENAMETOOLONG. */
int ckpt_gen_dir(const char *ckpt_dir, unsigned long long gen, char *out, size_t cap);

/* The generation CKPT_DIR/latest names.  0, -ENOENT (no latest), -EBADMSG. */
int ckpt_read_latest(const char *ckpt_dir, unsigned long long *gen);

/* The directory of the latest complete generation (CKPT_DIR/gen-NNNNNN,
 * checked to exist).  0, -ENOENT, -EBADMSG, -ENAMETOOLONG or -errno. */
int ckpt_latest_gen_dir(const char *ckpt_dir, char *out, size_t cap);

/* Point CKPT_DIR/latest at gen atomically (latest.tmp, fsync, rename, fsync
 * of the directory).  0 or -errno. */
int ckpt_write_latest(const char *ckpt_dir, unsigned long long gen);

/* Remove one generation directory and everything in it.  0 or -errno
 * (0 when it does not exist). */
int ckpt_remove_gen(const char *ckpt_dir, unsigned long long gen);

/* Keep only the newest KEEP complete generations (those with a MANIFEST):
 * every gen-NNNNNN directory older than the KEEP-th newest complete one is
 * removed, except the one `latest` names.  Newer incomplete ones are left
 * alone (they may be in progress).  Returns how many were removed, or -errno. */
int ckpt_prune(const char *ckpt_dir, int keep);

#endif
