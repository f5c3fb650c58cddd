# SPDX-License-Identifier: MIT
# Cocoon build. `make` builds into build/, `make check` runs every test.

CC      ?= gcc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CPPFLAGS := -D_GNU_SOURCE -Iinclude -Isrc
STD     := -std=gnu11
PREFIX  ?= /usr/local

B := build
BIN := $(B)/bin/cocoon
LIBDIR := $(B)/lib/cocoon
RUNTIME := $(LIBDIR)/libcocoon.so
RESTORER := $(LIBDIR)/cocoon-restore
# What programs link against to call include/cocoon.h with or without Cocoon.
API_LIB := $(B)/lib/libcocoon-api.so

COMMON_SRC := $(wildcard src/common/*.c)
CLI_SRC    := $(wildcard src/cli/*.c) $(wildcard src/coordinator/*.c) $(COMMON_SRC)
RT_SRC     := $(wildcard src/runtime/*.c) $(wildcard src/runtime/*.S) \
              $(wildcard src/plugins/*/*.c) $(COMMON_SRC)
RST_SRC    := $(wildcard src/restore/*.c) $(wildcard src/restore/*.S) \
              src/common/sum.c src/common/image.c src/common/pathmap.c

CLI_OBJ := $(patsubst %,$(B)/obj/cli/%.o,$(CLI_SRC))
RT_OBJ  := $(patsubst %,$(B)/obj/rt/%.o,$(RT_SRC))
RST_OBJ := $(patsubst %,$(B)/obj/rst/%.o,$(RST_SRC))

# The restorer runs with no libc, at a fixed address far from where programs live.
RESTORER_ADDR := 0x6ff000000000
RST_CFLAGS := -O2 -g -ffreestanding -fno-stack-protector -fno-builtin -fpie \
              -mno-red-zone -fno-asynchronous-unwind-tables -fcf-protection=none \
              -mgeneral-regs-only -DCOCOON_FREESTANDING

TEST_UNIT_SRC := $(wildcard tests/unit/*.c)
TEST_UNIT := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(TEST_UNIT_SRC))
TEST_CR_SRC := $(wildcard tests/cr/*.c)
TEST_CR := $(patsubst tests/cr/%.c,$(B)/tests/cr/%,$(TEST_CR_SRC))
TEST_LIB := $(wildcard tests/lib/*.c)
EXAMPLES_SRC := $(wildcard examples/*.c)
EXAMPLES := $(patsubst examples/%.c,$(B)/examples/%,$(EXAMPLES_SRC))
PLUGIN_DIRS := $(wildcard examples/plugins/*)
PLUGINS := $(patsubst examples/plugins/%,$(B)/examples/plugins/lib%.so,$(PLUGIN_DIRS))
TEST_PLUGINS := $(patsubst tests/plugins/%.c,$(B)/tests/plugins/lib%.so,$(wildcard tests/plugins/*.c))
TEST_APPS := $(B)/tests/apps/app $(B)/tests/apps/shared_conn $(B)/tests/apps/lifecycle \
             $(B)/tests/apps/files $(B)/tests/apps/dirty

all: $(BIN) $(RUNTIME) $(RESTORER) $(API_LIB)

$(B)/obj/cli/%.c.o: %.c $(wildcard src/*/*.h include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

$(B)/obj/rt/%.c.o: %.c $(wildcard src/*/*.h src/plugins/*/*.h include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) -fPIC -fvisibility=hidden -fno-stack-protector \
		-ftls-model=initial-exec -c -o $@ $<

$(B)/obj/rt/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -fPIC -c -o $@ $<

$(B)/obj/rst/%.c.o: %.c $(wildcard src/restore/*.h src/common/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(RST_CFLAGS) $(WARN) -c -o $@ $<

$(B)/obj/rst/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -fno-pie -c -o $@ $<

$(BIN): $(CLI_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^

$(RUNTIME): $(RT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared -fPIC -Wl,-z,defs -Wl,-z,now -o $@ $^ -ldl -lpthread

$(API_LIB): src/api/stub.c include/cocoon.h
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) -shared -fPIC -Wl,-soname,libcocoon-api.so \
		-o $@ $<

$(RESTORER): $(RST_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -static -nostdlib -no-pie -Wl,--build-id=none -Wl,-z,norelro \
		-Wl,-Ttext-segment=$(RESTORER_ADDR) -Wl,-z,noexecstack -o $@ $^ -lgcc

$(B)/tests/unit/%: tests/unit/%.c $(COMMON_SRC) $(wildcard src/common/*.h tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< $(COMMON_SRC)

$(B)/tests/cr/%: tests/cr/%.c $(TEST_LIB) $(wildcard tests/lib/*.h) include/cocoon.h
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) -Itests/lib $(CFLAGS) $(WARN) -o $@ $< $(TEST_LIB) -lpthread -lrt -lutil

# Programs for the scripted tests that link the API library; $ORIGIN keeps
# them working from the test driver's copy of build/.
$(B)/tests/apps/%: tests/scenario/%.c $(API_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< -L$(B)/lib -lcocoon-api \
		-Wl,-rpath,'$$ORIGIN/../../lib'

$(B)/tests/plugins/lib%.so: tests/plugins/%.c include/cocoon.h
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) -shared -fPIC -o $@ $< -ldl

$(B)/examples/%: examples/%.c
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< -lpthread

$(B)/examples/plugins/lib%.so: examples/plugins/%/*.c include/cocoon.h
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) -shared -fPIC -o $@ $(filter %.c,$^)

tests: all $(TEST_UNIT) $(TEST_CR) $(EXAMPLES) $(PLUGINS) $(TEST_PLUGINS) $(TEST_APPS)

check: tests
	python3 tests/run.py

demo: all $(EXAMPLES)
	sh examples/demo.sh

bench: all
	@sh bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/cocoon $(DESTDIR)$(PREFIX)/include
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/cocoon
	install -m 755 $(API_LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(RUNTIME) $(RESTORER) $(DESTDIR)$(PREFIX)/lib/cocoon/
	install -m 644 include/cocoon.h $(DESTDIR)$(PREFIX)/include/

indent:
	clang-format -i $(wildcard src/*/*.[ch] src/plugins/*/*.[ch] include/*.h tests/*/*.c)

clean:
	rm -rf $(B)

.PHONY: all tests check demo bench install indent clean
.DELETE_ON_ERROR:
include examples/eda/eda.mk
