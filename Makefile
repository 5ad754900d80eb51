# exorelay - build, test, install.
#
# Layout convention (so that adding a module never needs an edit here):
#   common/*.c          -> build/libcommon.a   (config, logging, strings)
#   relay/PART/*.c      -> build/librelay.a    (everything but *_main.c; the
#                          parts and their order: relay/LAYERS)
#   milter/*.c          -> build/libmilterx.a  (everything but *_main.c)
#   relay/admin/exorelay_main.c     -> bin/exorelay
#   relay/sendmail/sendmail_main.c  -> bin/exorelay-sendmail
#   milter/milter_main.c            -> bin/exorelay-milter
# Includes name their part: "common/log.h", "token/token.h" (-I. -Irelay);
# a header of the same folder is included by its bare name.
#   tests/unit/test_*.c -> one test program each, linked with all libraries
#   tests/unit/tool_*.c -> helper programs for the shell tests (not run alone)
#   tests/fuzz/fuzz_*.c -> libFuzzer targets (make fuzz, build-fuzz/fuzz/)
#
# BUILD selects the object directory (build, build-asan for check-asan,
# build-fuzz for the fuzz targets).

PREFIX   ?= /usr/local
DESTDIR  ?=
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
# systemd units; systemd reads /usr/local/lib/systemd/system as well
UNITDIR  ?= $(PREFIX)/lib/systemd/system
# bash-completion loads a program's completion from here on first use
BASHCOMPDIR ?= /usr/share/bash-completion/completions
DROP_GROUP ?= exorelay-drop

BUILD    ?= build
CC       ?= cc
WARN      = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
CFLAGS   ?= -O2 -g
CPPFLAGS ?=
SAN_FLAGS ?=
LIBS      = -lmilter -lcurl -ljansson -lssl -lcrypto -lpthread
LDFLAGS  ?=

# Hardening, always on (a plain "make" too; the setgid exorelay-sendmail and
# the daemons need it most): stack protector, PIE, full RELRO + BIND_NOW, and
# _FORTIFY_SOURCE=3 (glibc falls back to 2 where the compiler lacks level 3).
# They come before CPPFLAGS/CFLAGS/LDFLAGS, so that what the caller gives
# (dpkg-buildflags, or e.g. -fno-stack-protector) wins. Fortify is added only
# when the caller did not choose a level, when optimizing (glibc warns
# without -O, and -Werror makes that fatal) and without sanitizers (their
# interceptors and the fortified functions check the same calls twice).
# Stack clash and control-flow protection (x86 CET) where the compiler
# offers them (hardening-check asks for the latter).
cc_accepts = $(shell $(CC) -Werror $(1) -E -x c /dev/null >/dev/null 2>&1 && echo $(1))
HARDEN_CFLAGS := -fstack-protector-strong -fPIE \
                 $(call cc_accepts,-fstack-clash-protection) $(call cc_accepts,-fcf-protection)
HARDEN_LDFLAGS = -pie -Wl,-z,relro -Wl,-z,now
FORTIFY_LEVEL ?= 3
fortify_wanted = $(and $(filter-out -O0,$(filter -O%,$(CFLAGS))),\
                       $(if $(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),,yes),\
                       $(if $(strip $(SAN_FLAGS)),,yes))
HARDEN_CPPFLAGS = $(if $(fortify_wanted),-D_FORTIFY_SOURCE=$(FORTIFY_LEVEL))

ALL_CFLAGS = -std=gnu11 $(WARN) $(HARDEN_CFLAGS) $(HARDEN_CPPFLAGS) $(CPPFLAGS) $(CFLAGS) \
             $(SAN_FLAGS) -D_GNU_SOURCE -pthread -I. -Irelay -MMD -MP
ALL_LDFLAGS = $(HARDEN_LDFLAGS) $(LDFLAGS) $(SAN_FLAGS) -pthread

VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
ALL_CFLAGS += -DEXORELAY_VERSION='"$(VERSION)"'

COMMON_SRC := $(wildcard common/*.c)
RELAY_SRC  := $(filter-out %_main.c,$(wildcard relay/*/*.c))
MILTER_SRC := $(filter-out %_main.c,$(wildcard milter/*.c))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
TOOL_SRC   := $(wildcard tests/unit/tool_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

LIBCOMMON := $(BUILD)/libcommon.a
LIBRELAY  := $(BUILD)/librelay.a
LIBMILTER := $(BUILD)/libmilterx.a
ALL_LIBS  := $(LIBRELAY) $(LIBMILTER) $(LIBCOMMON)

PROGRAMS := $(BUILD)/bin/exorelay $(BUILD)/bin/exorelay-milter $(BUILD)/bin/exorelay-sendmail
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOL_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRC))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

.SECONDARY:
.PHONY: all deps check check-asan check-valgrind demo install uninstall clean \
        bench fuzz fuzz-build fuzz-bins deb

all: $(PROGRAMS) $(UNIT_BINS) $(TOOL_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBRELAY): $(call obj,$(RELAY_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBMILTER): $(call obj,$(MILTER_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/exorelay: $(BUILD)/relay/admin/exorelay_main.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(ALL_LIBS) $(LIBS)
# setgid: load only the libraries it uses (no curl, no TLS; see sendmail/sendmail_inline.c)
$(BUILD)/bin/exorelay-sendmail: $(BUILD)/relay/sendmail/sendmail_main.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -Wl,--as-needed -o $@ $< $(ALL_LIBS) $(LIBS)
$(BUILD)/bin/exorelay-milter: $(BUILD)/milter/milter_main.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(ALL_LIBS) $(LIBS)

$(BUILD)/tests/tools/%: $(BUILD)/tests/unit/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(ALL_LIBS) $(LIBS)

$(BUILD)/fuzz/%: $(BUILD)/tests/fuzz/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $< $(ALL_LIBS) $(LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(ALL_LIBS) $(LIBS)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# deps - install the Debian packages the build, the tests and the demo need.
deps:
	@sh tests/deps.sh

check: deps
	$(MAKE) all
	BUILD=$(BUILD) bash tests/run

# The same build and tests under AddressSanitizer + UndefinedBehaviorSanitizer.
check-asan: deps
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fno-omit-frame-pointer" \
	    SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" all
	BUILD=build-asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 bash tests/run

# fuzz - every libFuzzer target for FUZZ_SECONDS (default 60) on its seed
# corpus (tests/fuzz/corpus/NAME, read-only) plus what it found before
# (build-fuzz/corpus/NAME); crashes land in build-fuzz/crashes/.
# Built with clang, coverage + ASan + UBSan, into build-fuzz/; FUZZ_CC is
# the clang whose libFuzzer runtime is installed (tests/fuzz/cc.sh).
FUZZ_SECONDS ?= 60
FUZZ_CC ?= $(shell sh tests/fuzz/cc.sh || echo clang)
FUZZ_BUILD = $(MAKE) BUILD=build-fuzz CC=$(FUZZ_CC) CFLAGS="-O1 -g -fno-omit-frame-pointer" \
	    SAN_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"
fuzz-build:
	$(FUZZ_BUILD) fuzz-bins
fuzz-bins: $(FUZZ_BINS)
fuzz: fuzz-build
	sh tests/fuzz/run $(FUZZ_SECONDS)

# The unit tests, and every program the shell tests start, under valgrind's
# memcheck (tests/run wraps $BIN); an error or a leak in any process fails
# its test. VALGRIND_TESTS selects tests by name (default: all).
VALGRIND = valgrind --error-exitcode=99 --leak-check=full \
	    --suppressions=$(CURDIR)/tests/valgrind.supp \
	    --log-file=%q{EXORELAY_SANLOG}/vg.%p
check-valgrind: deps
	$(MAKE) all
	EXORELAY_WRAP='$(VALGRIND)' BUILD=$(BUILD) bash tests/run $(VALGRIND_TESTS)

demo: deps
	$(MAKE) all
	BUILD=$(BUILD) sh tests/demo.sh

bench: deps
	$(MAKE) all
	BUILD=$(BUILD) sh bench/run

install: $(PROGRAMS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(SBINDIR)/
	@# exorelay-sendmail: setgid $(DROP_GROUP), the group of spool_dir/maildrop (INSTALL, 6.)
	@if [ "$$(id -u)" = 0 ] && chgrp $(DROP_GROUP) $(DESTDIR)$(SBINDIR)/exorelay-sendmail 2>/dev/null; \
	then chmod 2755 $(DESTDIR)$(SBINDIR)/exorelay-sendmail; \
	else echo "note: exorelay-sendmail is not setgid $(DROP_GROUP) (not root, or no such group): see INSTALL"; fi
	for f in man/*.5; do [ -e "$$f" ] && install -m 0644 $$f $(DESTDIR)$(MANDIR)/man5/ || true; done
	for f in man/*.8; do [ -e "$$f" ] && install -m 0644 $$f $(DESTDIR)$(MANDIR)/man8/ || true; done
	@# the units, naming the programs where they were installed
	install -d $(DESTDIR)$(UNITDIR)
	for f in conf/*.service; do \
	    sed 's,/usr/local/sbin/,$(SBINDIR)/,g' $$f >$(DESTDIR)$(UNITDIR)/$${f#conf/} && \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$${f#conf/} || exit 1; done
	@# the config with CHANGE-ME placeholders (nothing starts before they are
	@# filled in); an existing config is never replaced
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 contrib/bash-completion/exorelay $(DESTDIR)$(BASHCOMPDIR)/exorelay
	ln -sf exorelay $(DESTDIR)$(BASHCOMPDIR)/exorelay-milter
	ln -sf exorelay $(DESTDIR)$(BASHCOMPDIR)/exorelay-sendmail
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/exorelay
	[ -e $(DESTDIR)$(SYSCONFDIR)/exorelay/exorelay.conf ] || \
	    install -m 0644 conf/exorelay.conf $(DESTDIR)$(SYSCONFDIR)/exorelay/exorelay.conf

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/exorelay $(DESTDIR)$(SBINDIR)/exorelay-milter \
	    $(DESTDIR)$(SBINDIR)/exorelay-sendmail
	for f in conf/*.service; do rm -f $(DESTDIR)$(UNITDIR)/$${f#conf/}; done
	rm -f $(DESTDIR)$(BASHCOMPDIR)/exorelay $(DESTDIR)$(BASHCOMPDIR)/exorelay-milter \
	    $(DESTDIR)$(BASHCOMPDIR)/exorelay-sendmail
	for f in man/*.5; do rm -f $(DESTDIR)$(MANDIR)/man5/$$(basename $$f); done
	for f in man/*.8; do rm -f $(DESTDIR)$(MANDIR)/man8/$$(basename $$f); done

# deb - the Debian packages (debian/), built from a copy of this tree in
# build-deb/ so that dpkg-buildpackage leaves its results there, not in
# the parent directory: build-deb/*.deb. Needs dpkg-dev, debhelper and the
# Build-Depends of debian/control.
DEB_DIR = build-deb
deb:
	@command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || \
	    { echo "make deb needs dpkg-dev and debhelper (INSTALL, section 1.1)"; exit 1; }
	@v=$$(dpkg-parsechangelog -S Version); [ "$${v%%+*}" = "$(VERSION)" ] || \
	    { echo "debian/changelog says $$v, VERSION says $(VERSION)"; exit 1; }
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/exorelay
	tar -c --exclude='./build*' --exclude=./.git . | tar -x -C $(DEB_DIR)/exorelay
	cd $(DEB_DIR)/exorelay && dpkg-buildpackage -us -uc -b
	@ls -1 $(DEB_DIR)/*.deb

clean:
	rm -rf build build-asan build-fuzz build-deb
