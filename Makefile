# Makefile for toll_free (PGXS)
#
#   make && make install      build and install the extension
#   make test                 install missing dependencies (as root), build, and run the
#                             regression and TAP suites inside a throwaway sandbox
#   make demo                 the guided tour on the embedded simulator
#   make bench                the benchmarks (writes docs/benchmarks.md)
#   make fuzz                 long libFuzzer runs of every target
#   make valgrind             the regression suite with the backends under valgrind
#   make soak                 mixed load with low-rate faults (TOLL_FREE_SOAK_MINUTES, default 30)
#   make queue-10k            10,000 queued requests with faults, worker kills and a crash

MODULE_big = toll_free
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
PGFILEDESC = "toll_free - US toll-free number registry client"

EXTENSION = toll_free
EXTVERSION = 1.0
DATA_built = toll_free--$(EXTVERSION).sql

# Every sql/NAME.sql is a regression test; they run in name order.
REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --outputdir=test/results

TAP_TESTS = 1
PROVE_TESTS = $(sort $(wildcard test/t/*.pl))
PROVE_FLAGS = -I test/t/lib

PG_CONFIG ?= pg_config
PKG_CONFIG ?= pkg-config

PG_CPPFLAGS = -Isrc $(shell $(PKG_CONFIG) --cflags libcurl libxml-2.0 2>/dev/null)
SHLIB_LINK = $(shell $(PKG_CONFIG) --libs libcurl libxml-2.0 2>/dev/null)

# Warnings are errors in CI and in `make test`; WERROR=0 turns that off.
ifneq ($(filter 1 yes true,$(WERROR) $(CI)),)
PG_CFLAGS += -Werror
endif

EXTRA_CLEAN = test/results test/tmp_check

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)

# PGXS tracks no header dependencies, and a changed shared-memory struct in
# a stale object corrupts the server, so every object depends on every header.
$(OBJS): $(wildcard src/*.h)
else
all install installcheck:
	@echo "PostgreSQL server headers (PGXS) not found for $(PG_CONFIG)." >&2
	@echo "Run test/install-deps as root, or install postgresql-server-dev-15." >&2
	@exit 1
endif

# The install script is the concatenation of the fragments in extension/, in name order.
$(DATA_built): $(sort $(wildcard extension/*.sql))
	cat $^ > $@

.PHONY: test demo bench sim fuzz valgrind soak queue-10k

sim:
	$(MAKE) -C test/sim

test:
	test/check

demo:
	test/demo/start

bench:
	bench/run

fuzz:
	$(MAKE) -C test/fuzz run-long

valgrind:
	test/valgrind/run

soak:
	test/soak/run

queue-10k:
	bench/queue_10k.sh
