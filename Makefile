# flowc — build, test, fuzz, bench, install. Everything generated goes under build/.
#
#   make            build/flowc (release, -O2)
#   make test       installs missing packages, builds an ASan+UBSan flowc, runs every test
#   make fuzz       every libFuzzer target in tests/fuzz/ (FUZZ_SECONDS each, default 60)
#   make bench      benchmarks (each prints its figures)
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean

CC      ?= cc
PREFIX  ?= /usr/local
VERSION := 0.1.0
B       := build

WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
BASEFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -DFLOWC_VERSION='"$(VERSION)"' \
             -Icompiler -Iserver -Istdlib -Iruntime -I$(B)/gen
CFLAGS  ?= -O2 -g
# generated scanner/parser: compiled without -Werror (their code is not ours)
GENWARN := -Wno-unused-function -Wno-sign-compare -Wno-unused-parameter

COMPILER_SRCS := $(filter-out compiler/main.c,$(wildcard compiler/*.c))
# the control plane (`flowc server`, `flowc remote`), linked into flowc with the compiler
SERVER_SRCS   := $(wildcard server/*.c)
# the runtime library (libflowrt.a): linked into built flows, and into flowc for eval and previews
RUNTIME_SRCS  := $(filter-out runtime/main.c,$(wildcard runtime/*.c stdlib/*.c))
# what a built flow links (compiler/build.c is given this list); the runtime loads libcurl, libpq and
# libmicrohttpd when a flow first uses them (runtime/dynlib.c): flowc and the tests link them as well
RT_LIBS       := -lcjson -lsqlite3 -lutf8proc -lcrypto -lpthread -lm
LIBS          := $(RT_LIBS) -lcurl -lpq -lmicrohttpd
# their sonames, read from the -dev packages' links, for dlopen
soname         = $(shell objdump -p "$$($(CC) -print-file-name=lib$(1).so)" 2>/dev/null | awk '$$1 == "SONAME" { print $$2 }')
DYNLIB_DEFS   := -DFLOW_SONAME_CURL='"$(call soname,curl)"' -DFLOW_SONAME_PQ='"$(call soname,pq)"' -DFLOW_SONAME_MHD='"$(call soname,microhttpd)"'
FLOWC_LIBS    := -ltcc -ldl -lpthread -larchive -lsodium
GEN_SRCS      := $(B)/gen/parser.c $(B)/gen/lexer.c
HDRS          := $(wildcard compiler/*.h stdlib/*.def runtime/*.h runtime/*.def server/*.h server/*.def) $(B)/gen/parser.h $(B)/gen/lexer.h $(B)/gen/pow10.h

.PHONY: all test fuzz bench install clean deps deps-test demo print-libs
all: $(B)/flowc

deps:
	@scripts/deps.sh build
deps-test:
	@scripts/deps.sh test

# ---- generated front end ----
$(B)/gen/parser.c $(B)/gen/parser.h &: grammar/parser.y
	@mkdir -p $(B)/gen
	bison -Wall -Werror --defines=$(B)/gen/parser.h -o $(B)/gen/parser.c $<
$(B)/gen/lexer.c $(B)/gen/lexer.h &: grammar/lexer.l $(B)/gen/parser.h
	@mkdir -p $(B)/gen
	flex --header-file=$(B)/gen/lexer.h -o $(B)/gen/lexer.c $<

# the table of powers of ten runtime/decimal.c scales by, computed exactly by a generator
$(B)/gen/pow10.h: scripts/gen_pow10.c
	@mkdir -p $(B)/gen
	$(CC) -std=c11 -O2 $(WARN) -o $(B)/gen/gen_pow10 $<
	$(B)/gen/gen_pow10 > $@.tmp && mv $@.tmp $@

# ---- one rule set per variant: release (rel) and sanitized (asan) ----
define VARIANT
$(B)/$(1)/%.o: compiler/%.c $(HDRS)
	@mkdir -p $$(dir $$@)
	$$(CC) $(BASEFLAGS) $(WARN) $(2) -c $$< -o $$@
$(B)/$(1)/srv/%.o: server/%.c $(HDRS)
	@mkdir -p $$(dir $$@)
	$$(CC) $(BASEFLAGS) $(WARN) $(2) -c $$< -o $$@
$(B)/$(1)/gen_%.o: $(B)/gen/%.c $(HDRS)
	@mkdir -p $$(dir $$@)
	$$(CC) $(BASEFLAGS) $(GENWARN) $(2) -c $$< -o $$@
$(B)/$(1)/libflowc.a: $(patsubst compiler/%.c,$(B)/$(1)/%.o,$(COMPILER_SRCS)) $(patsubst server/%.c,$(B)/$(1)/srv/%.o,$(SERVER_SRCS)) $(B)/$(1)/gen_parser.o $(B)/$(1)/gen_lexer.o
	rm -f $$@; ar rcs $$@ $$^
$(B)/$(1)/rt/%.o: runtime/%.c $(HDRS)
	@mkdir -p $$(dir $$@)
	$$(CC) $(BASEFLAGS) $(WARN) $(2) -c $$< -o $$@
$(B)/$(1)/rt/dynlib.o: runtime/dynlib.c $(HDRS)
	@mkdir -p $$(dir $$@)
	$$(CC) $(BASEFLAGS) $(WARN) $(2) $(DYNLIB_DEFS) -c $$< -o $$@
$(B)/$(1)/build.o: compiler/build.c $(HDRS)
	@mkdir -p $$(dir $$@)
	$$(CC) $(BASEFLAGS) $(WARN) $(2) -DFLOWC_RT_LIBS='"$(RT_LIBS)"' -c $$< -o $$@
$(B)/$(1)/rt/std_%.o: stdlib/%.c $(HDRS)
	@mkdir -p $$(dir $$@)
	$$(CC) $(BASEFLAGS) $(WARN) $(2) -c $$< -o $$@
$(B)/$(1)/libflowrt.a: $(patsubst runtime/%.c,$(B)/$(1)/rt/%.o,$(filter runtime/%,$(RUNTIME_SRCS))) $(patsubst stdlib/%.c,$(B)/$(1)/rt/std_%.o,$(filter stdlib/%,$(RUNTIME_SRCS)))
	rm -f $$@; ar rcs $$@ $$^
endef
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
$(eval $(call VARIANT,rel,$(CFLAGS)))
$(eval $(call VARIANT,asan,$(SANFLAGS)))

$(B)/flowc: $(B)/rel/main.o $(B)/rel/libflowc.a $(B)/rel/libflowrt.a
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS) $(FLOWC_LIBS)
$(B)/asan/flowc: $(B)/asan/main.o $(B)/asan/libflowc.a $(B)/asan/libflowrt.a
	$(CC) $(SANFLAGS) -o $@ $^ $(LIBS) $(FLOWC_LIBS)

# ---- tests: every suite under tests/, run against the sanitized compiler ----
# Both compilers and every test program are built first, in one make over TEST_JOBS processes (default:
# the number of CPUs), so that no suite builds while others run (a test program that does not build
# leaves it to its suite, which reports it by name); tests/run.sh then runs the suites, several at
# once (T_JOBS, default the number of CPUs; see its header).
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
TEST_PROGS := $(patsubst tests/unit/%.c,$(B)/tests/unit_%,$(wildcard tests/unit/*.c)) \
              $(patsubst tests/server/%.c,$(B)/tests/server_%,$(wildcard tests/server/*.c)) \
              $(patsubst tests/conformance/%.c,$(B)/tests/%,$(wildcard tests/conformance/*.c)) \
              $(B)/tests/http_server
test: deps-test
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) -k $(B)/flowc $(B)/asan/flowc $(TEST_PROGS) || \
	  $(MAKE) --no-print-directory $(B)/flowc $(B)/asan/flowc
	@FLOWC=$(B)/asan/flowc FLOWC_REL=$(B)/flowc tests/run.sh

# ---- fuzzing (clang libFuzzer): one target per tests/fuzz/fuzz_NAME.c, each run FUZZ_SECONDS ----
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(COMPILER_SRCS) $(SERVER_SRCS) $(RUNTIME_SRCS) $(GEN_SRCS) $(HDRS)
	@mkdir -p $(B)/fuzz
	clang $(BASEFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined $(GENWARN) -o $@ \
	  $< $(COMPILER_SRCS) $(SERVER_SRCS) $(RUNTIME_SRCS) $(GEN_SRCS) $(LIBS) $(FLOWC_LIBS)
fuzz: deps-test $(patsubst %,$(B)/fuzz/fuzz_%,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do tests/fuzz/run.sh $(B)/fuzz/fuzz_$$t $(FUZZ_SECONDS) || exit 1; done

bench: $(B)/flowc
	@scripts/deps.sh bench
	bench/run.sh
	bench/mapping.sh
	bench/preview.sh
	bench/fmt.sh
	bench/lsp.sh
	bench/http.sh
	bench/sqlite.sh
	bench/postgres.sh
	bench/diff.sh
	bench/serve.sh
	bench/webhook.sh
	bench/server.sh
	STORE=postgres bench/server.sh
	bench/automap.sh

demo:
	@scripts/demo.sh

install: $(B)/flowc $(B)/rel/libflowrt.a
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/flowc $(DESTDIR)$(PREFIX)/include/flowc
	install -m 755 $(B)/flowc $(DESTDIR)$(PREFIX)/bin/flowc
	install -m 644 $(B)/rel/libflowrt.a $(DESTDIR)$(PREFIX)/lib/flowc/libflowrt.a
	install -m 644 runtime/flow.h $(DESTDIR)$(PREFIX)/include/flowc/flow.h

clean:
	rm -rf $(B)

# the libraries a program linked with libflowrt.a needs (tests that link their own drivers read them here)
print-libs:
	@echo $(LIBS)

# ---- test programs (conformance runners): tests/conformance/NAME.c -> build/tests/NAME ----
$(B)/tests/%: tests/conformance/%.c
	@mkdir -p $(B)/tests
	$(CC) $(BASEFLAGS) $(WARN) -O1 -g -o $@ $< $(LIBS)

# ---- unit tests of the runtime: tests/unit/NAME.c -> build/tests/unit_NAME (sanitized, linked with libflowrt) ----
$(B)/tests/unit_%: tests/unit/%.c tests/unit/check.h $(B)/asan/libflowrt.a $(HDRS)
	@mkdir -p $(B)/tests
	$(CC) $(BASEFLAGS) $(WARN) $(SANFLAGS) -o $@ $< $(B)/asan/libflowrt.a $(LIBS)

# ---- unit tests of the control plane: tests/server/NAME.c -> build/tests/server_NAME (sanitized, linked with flowc's libraries) ----
$(B)/tests/server_%: tests/server/%.c tests/unit/check.h $(B)/asan/libflowc.a $(B)/asan/libflowrt.a $(HDRS)
	@mkdir -p $(B)/tests
	$(CC) $(BASEFLAGS) -Iserver $(WARN) $(SANFLAGS) -o $@ $< $(B)/asan/libflowc.a $(B)/asan/libflowrt.a $(LIBS) $(FLOWC_LIBS)

# ---- the HTTP test server (tests/http/server.c): real HTTP on 127.0.0.1 for the http connector's tests ----
$(B)/tests/http_server: tests/http/server.c
	@mkdir -p $(B)/tests
	$(CC) $(BASEFLAGS) $(WARN) $(SANFLAGS) -o $@ $< -lmicrohttpd -lcjson -lpthread
