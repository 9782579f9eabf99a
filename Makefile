# wsbridge — GNU make, no generator. Targets:
#   make            build the five binaries into bin/
#   make serve      install what is missing, build every tool, run wsbridge-serve on 127.0.0.1:8765
#   make check      install what is missing, build, lint, run every test (last line: N passed, N failed);
#                   integration scripts JOBS=2 at a time
#   make check SAN=1   the same under AddressSanitizer + UBSan (objects in build/san, binaries in build/san/bin)
#   make bench      every figure of docs/performance.md, against mosquitto (and Node ws)
#                   in the same run; results also in bench/results/<time>.jsonl;
#                   and through two instances on one Redis (tests/bench/cluster.sh);
#                   and --compress: bytes and CPU per delivery, and per message for
#                   sub and pub --compress (tests/bench/compress.sh)
#   make bench-compare [A=x.jsonl B=y.jsonl]   two runs side by side (default: last two)
#   make fuzz       libFuzzer (clang) on every tests/fuzz/fuzz_*.c, FUZZ_SECONDS=60 each
#                   (FUZZ_TARGETS="envelope broker" for some); fails on any crash found
#   make valgrind   wsbridge-serve under valgrind while clients churn, VALGRIND_SECONDS=60;
#                   fails on any memory error or definite leak
#   make lint       the house rules: -Werror, include boundaries, unused public functions,
#                   function and file lengths, option letters, design.md names every module
#   make docs       regenerate man pages and shell completions from the option table
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes
CPPFLAGS_ALL := -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -DWSB_VERSION='"$(VERSION)"' -Ilib $(CPPFLAGS)
LIBS    := -lwebsockets -ljq -lcurl -lcrypto -lhiredis -lz -lm

FUZZ_CC ?= clang
ifeq ($(FUZZ),1)
# make fuzz builds here: lib instrumented for coverage, fuzz targets linked
# with libFuzzer's main. Debian's clang (scripts/install-deps.sh fuzz).
override CC := $(FUZZ_CC)
BUILD   := build/fuzz
BINDIR  := build/fuzz/bin
SANFLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	    -fno-sanitize-recover=undefined
SANLD   := -fsanitize=fuzzer,address,undefined
else ifeq ($(LINT),1)
# make lint's -Werror build: the release flags, warnings as errors, in its
# own folder (scripts/lint.sh).
BUILD   := build/lint
BINDIR  := build/lint/bin
SANFLAGS := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -Werror
SANLD   :=
else ifeq ($(SAN),1)
BUILD   := build/san
BINDIR  := build/san/bin
SANFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
SANLD   := -fsanitize=address,undefined
else
BUILD   := build/rel
BINDIR  := bin
SANFLAGS := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
SANLD   :=
endif

ALL_CFLAGS := $(CPPFLAGS_ALL) $(CFLAGS) $(WARN) $(SANFLAGS)
ALL_LDFLAGS := $(LDFLAGS) $(SANLD)

TOOLS     := $(patsubst cmd/wsbridge-%/main.c,%,$(wildcard cmd/wsbridge-*/main.c))
BINS      := $(addprefix $(BINDIR)/wsbridge-,$(TOOLS))
LIB_SRC   := $(sort $(wildcard lib/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBA      := $(BUILD)/libwsb.a
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC  := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN  := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/tests/bench/%)
# Fuzz targets: replay_<name> (normal compiler + replay_main.c) replays the
# committed corpus in make check; build/fuzz/fuzz_<name> is the libFuzzer binary.
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
REPLAY_BIN := $(FUZZ_NAMES:%=$(BUILD)/tests/fuzz/replay_%)
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(FUZZ_NAMES)
VALGRIND_SECONDS ?= 60

.PHONY: all deps serve check test unit lint lint-objs bench bench-compare docs check-docs install uninstall clean fuzz fuzz-bins valgrind
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BINS) $(UNIT_BIN) $(TOOL_BIN) $(BENCH_BIN) $(REPLAY_BIN)

deps:
	@scripts/install-deps.sh check

# -MMD: each object depends on the headers it includes, no more.
$(BUILD)/%.o: %.c | $(BUILD)/lib $(BUILD)/cmd
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

$(BUILD)/lib $(BUILD)/cmd $(BINDIR):
	@mkdir -p $@

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# The console page and the browser client, embedded from their readable
# sources (cmd/wsbridge-serve/console.h) into wsbridge-serve alone.
EMBED   := cmd/wsbridge-serve/console.html cmd/wsbridge-serve/wsbridge.js
$(BUILD)/gen/embedded.c: $(EMBED) scripts/embed.sh
	@mkdir -p $(dir $@)
	scripts/embed.sh $(EMBED) >$@
$(BUILD)/gen/embedded.o: $(BUILD)/gen/embedded.c cmd/wsbridge-serve/console.h
	$(CC) $(ALL_CFLAGS) -Icmd/wsbridge-serve -c -o $@ $<
$(BINDIR)/wsbridge-serve $(BUILD)/tests/test_console: $(BUILD)/gen/embedded.o

# A tool is every .c in its cmd/wsbridge-<tool>/ folder, on the library.
.SECONDEXPANSION:
$(BINDIR)/wsbridge-%: $$(addprefix $(BUILD)/,$$(subst .c,.o,$$(wildcard cmd/wsbridge-$$*/*.c))) $(LIBA) | $(BINDIR)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBA) $(LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBA) $(LIBS)

# A unit test of a tool's own module links that object too and sees its
# folder's headers: TOOL_UNIT, test name = cmd/ folder (the module is the
# test's name without "test_").
TOOL_UNIT := test_pubstate=wsbridge-pub test_clients=wsbridge-serve test_console=wsbridge-serve
define tool_unit
$$(BUILD)/tests/$(1): $$(BUILD)/cmd/$(2)/$(1:test_%=%).o
$$(BUILD)/tests/unit/$(1).o: ALL_CFLAGS += -Icmd/$(2)
endef
$(foreach u,$(TOOL_UNIT),$(eval $(call tool_unit,$(word 1,$(subst =, ,$(u))),$(word 2,$(subst =, ,$(u))))))

$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS)

$(BUILD)/tests/bench/%: $(BUILD)/tests/bench/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS)

$(BUILD)/tests/fuzz/%.o: tests/fuzz/fuzz.h

$(BUILD)/tests/fuzz/replay_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay_main.o $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

fuzz-bins: $(FUZZ_TARGETS:%=$(BUILD)/fuzz_%)

# Each target runs FUZZ_SECONDS from its committed corpus (tests/fuzz/run.sh);
# new inputs and crashers go to a temporary folder, named loudly on a crash.
fuzz:
	@scripts/install-deps.sh fuzz
	@$(MAKE) --no-print-directory fuzz-bins FUZZ=1 FUZZ_TARGETS="$(FUZZ_TARGETS)"
	@tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

valgrind:
	@scripts/install-deps.sh valgrind
	@$(MAKE) --no-print-directory bin/wsbridge-serve
	@WSB_BIN=$(abspath bin) scripts/valgrind-churn.sh $(VALGRIND_SECONDS)

# The tests run the binaries in $(BINDIR); tests/run.sh prints the closing count.
# JOBS: integration scripts run at once (each has its own ports and folders).
JOBS ?= 2
check: deps
	@$(MAKE) --no-print-directory all SAN=$(SAN)
	@JOBS=$(JOBS) WSB_BIN=$(abspath $(BINDIR)) WSB_TESTBIN=$(abspath $(BUILD)/tests) WSB_SAN=$(SAN) tests/run.sh

test: all
	@JOBS=$(JOBS) WSB_BIN=$(abspath $(BINDIR)) WSB_TESTBIN=$(abspath $(BUILD)/tests) WSB_SAN=$(SAN) tests/run.sh

# Every object (lib, programs, tests) with LINT=1's -Werror; no linking.
CMD_SRC   := $(sort $(wildcard cmd/*/*.c))
lint-objs: $(LIB_OBJ) $(CMD_SRC:%.c=$(BUILD)/%.o) $(UNIT_SRC:%.c=$(BUILD)/%.o) \
	$(TOOL_SRC:%.c=$(BUILD)/%.o) $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/fuzz/*.c))

lint: deps
	@$(MAKE) --no-print-directory all
	@WSB_BIN=$(abspath $(BINDIR)) WSB_TESTBIN=$(abspath $(BUILD)/tests) tests/run.sh lint

unit: all
	@WSB_BIN=$(abspath $(BINDIR)) WSB_TESTBIN=$(abspath $(BUILD)/tests) tests/run.sh unit

serve:
	@scripts/install-deps.sh build
	@$(MAKE) --no-print-directory $(BINS)
	exec $(BINDIR)/wsbridge-serve --listen 127.0.0.1:8765

bench:
	@scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory all
	@WSB_BIN=$(abspath bin) WSB_TESTBIN=$(abspath build/rel/tests) tests/bench/bench.sh
	@WSB_BIN=$(abspath bin) WSB_TESTBIN=$(abspath build/rel/tests) tests/bench/cluster.sh
	@WSB_BIN=$(abspath bin) tests/bench/compress.sh

bench-compare:
	@tests/bench/compare.py $(A) $(B)

docs: $(BINS)
	@WSB_BIN=$(abspath $(BINDIR)) scripts/gen-docs.sh

check-docs: $(BINS)
	@WSB_BIN=$(abspath $(BINDIR)) scripts/gen-docs.sh --check

install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(TOOLS:%=docs/man/wsbridge-%.1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 docs/man/wsbridge.7 $(DESTDIR)$(PREFIX)/share/man/man7/
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	for t in $(TOOLS); do \
		install -m 0644 completions/wsbridge.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/wsbridge-$$t; \
		install -m 0644 completions/wsbridge.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/wsbridge-$$t.fish; \
	done
	install -m 0644 completions/_wsbridge $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_wsbridge

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(PREFIX)/bin/wsbridge-$$t $(DESTDIR)$(PREFIX)/share/man/man1/wsbridge-$$t.1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/wsbridge-$$t \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/wsbridge-$$t.fish; done
	rm -f $(DESTDIR)$(PREFIX)/share/man/man7/wsbridge.7 $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_wsbridge

clean:
	rm -rf build bin

# make deb: the Debian package of the binaries in $(BINDIR), built with
# dpkg-deb (scripts/build-deb.sh says what is in it); install it with
# apt install ./wsbridge_$(VERSION)_<arch>.deb
.PHONY: deb
deb: $(BINS)
	@scripts/install-deps.sh deb
	@WSB_BIN=$(abspath $(BINDIR)) scripts/build-deb.sh
