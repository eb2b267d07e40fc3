/*-------------------------------------------------------------------------
 *
 * main.c
 *	  Command line, start-up and shutdown of tfsim, the toll_free registry
 *	  simulator.
 *
 * tfsim runs in the foreground, logs one line per start, stop and error to
 * stderr, writes --ready-file (containing its pid) once every port listens,
 * and exits cleanly on SIGTERM or SIGINT.
 *
 *-------------------------------------------------------------------------
 */
#include "tfsim.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>

SimConfig	sim_config;
pthread_mutex_t sim_lock = PTHREAD_MUTEX_INITIALIZER;

/* The seed options given at start-up, which reset returns to. */
static uint64_t startup_seed;
static long startup_numbers;
static char startup_resporgs[512];

static void
usage(FILE *out)
{
	fprintf(out,
			"Usage: tfsim --port N --tls-cert FILE --tls-key FILE --admin-port N --users FILE [options]\n"
			"\n"
			"tfsim simulates the toll-free number registry's XML API (docs/protocol.md)\n"
			"at https://127.0.0.1:PORT/v3/ip, with an admin API for tests at\n"
			"http://127.0.0.1:ADMIN-PORT/_admin.  Every port listens on 127.0.0.1 only.\n"
			"\n"
			"Required:\n"
			"  --port N             HTTPS API port\n"
			"  --tls-cert FILE      PEM certificate of the HTTPS API\n"
			"  --tls-key FILE       PEM private key of that certificate\n"
			"  --admin-port N       plain-HTTP admin API port\n"
			"  --users FILE         users, one a line: usrName:password:respOrgId:updList\n"
			"                       (updList comma-separated RespOrg IDs)\n"
			"Options:\n"
			"  --plain-port N       also serve the API over plain HTTP on this port\n"
			"  --seed N             seed of the generated data (default 1)\n"
			"  --numbers N          numbers held by the RespOrgs at start (default 10000,\n"
			"                       at most 20000000); all others are SPARE\n"
			"  --resporgs LIST      comma-separated RespOrg IDs holding them, the first\n"
			"                       about 40 %% (default RUC01,RUC02,ABC01,XYZ01)\n"
			"  --rate-limit N       requests per minute per RespOrg, 0 = off (default 0)\n"
			"  --pending-share P    share 0..1 of API calls that get a 202 response (default 0)\n"
			"  --pending-ms N       milliseconds a 202 response stays pending (default 300)\n"
			"  --lock-seconds N     pre-reservation lock after a search, in simulated\n"
			"                       seconds (default 60)\n"
			"  --res-limit N        minimum reservation limit per entity (default 2000);\n"
			"                       the limit is max(N, 7.5 %% of the entity's WORKING numbers)\n"
			"  --page-size N        default RespOrg check page size, 1..100000 (default 50000)\n"
			"  --threads N          HTTP worker threads per API port (default 2)\n"
			"  --session-ttl N      session lifetime in seconds (default 3600)\n"
			"  --latency-ms N       delay added to every API call, in ms (default 0)\n"
			"  --scp-delay N        simulated seconds a record stays SENDING (default 0)\n"
			"  --ready-file FILE    write the pid to FILE once every port listens\n"
			"  --help               show this help and exit\n");
}

static bool
parse_int_option(const char *name, const char *text, long min, long max,
				 long *out)
{
	char	   *end;
	long		v = strtol(text, &end, 10);

	if (*text == '\0' || *end != '\0' || v < min || v > max)
	{
		fprintf(stderr, "tfsim: invalid value \"%s\" for --%s: expected an integer %ld..%ld\n",
				text, name, min, max);
		return false;
	}
	*out = v;
	return true;
}

static bool
parse_options(int argc, char **argv)
{
	static const struct option opts[] = {
		{"port", required_argument, NULL, 'p'},
		{"tls-cert", required_argument, NULL, 'c'},
		{"tls-key", required_argument, NULL, 'k'},
		{"plain-port", required_argument, NULL, 'P'},
		{"admin-port", required_argument, NULL, 'a'},
		{"users", required_argument, NULL, 'u'},
		{"seed", required_argument, NULL, 's'},
		{"numbers", required_argument, NULL, 'n'},
		{"resporgs", required_argument, NULL, 'r'},
		{"rate-limit", required_argument, NULL, 'R'},
		{"pending-share", required_argument, NULL, 'S'},
		{"pending-ms", required_argument, NULL, 'm'},
		{"lock-seconds", required_argument, NULL, 'l'},
		{"res-limit", required_argument, NULL, 'L'},
		{"page-size", required_argument, NULL, 'g'},
		{"threads", required_argument, NULL, 't'},
		{"session-ttl", required_argument, NULL, 'T'},
		{"latency-ms", required_argument, NULL, 'y'},
		{"scp-delay", required_argument, NULL, 'd'},
		{"ready-file", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	int			c;
	long		v;

	sim_config.seed = 1;
	sim_config.numbers = 10000;
	strcpy(sim_config.resporgs, "RUC01,RUC02,ABC01,XYZ01");
	sim_config.pending_ms = 300;
	sim_config.lock_seconds = 60;
	sim_config.res_limit = 2000;
	sim_config.page_size = 50000;
	sim_config.threads = 2;
	sim_config.session_ttl = 3600;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'p':
			case 'P':
			case 'a':
				if (!parse_int_option(c == 'p' ? "port" : c == 'P' ? "plain-port" : "admin-port",
									  optarg, 1, 65535, &v))
					return false;
				if (c == 'p')
					sim_config.port = (int) v;
				else if (c == 'P')
					sim_config.plain_port = (int) v;
				else
					sim_config.admin_port = (int) v;
				break;
			case 'c':
				sim_config.tls_cert = optarg;
				break;
			case 'k':
				sim_config.tls_key = optarg;
				break;
			case 'u':
				sim_config.users_file = optarg;
				break;
			case 'f':
				sim_config.ready_file = optarg;
				break;
			case 's':
				if (!parse_int_option("seed", optarg, 0, 1L << 62, &v))
					return false;
				sim_config.seed = (uint64_t) v;
				break;
			case 'n':
				if (!parse_int_option("numbers", optarg, 0, 20000000, &v))
					return false;
				sim_config.numbers = v;
				break;
			case 'r':
				if (strlen(optarg) == 0 || strlen(optarg) >= sizeof(sim_config.resporgs))
				{
					fprintf(stderr, "tfsim: invalid value for --resporgs: expected a comma-separated list of RespOrg IDs\n");
					return false;
				}
				strcpy(sim_config.resporgs, optarg);
				break;
			case 'R':
				if (!parse_int_option("rate-limit", optarg, 0, 100000000, &v))
					return false;
				sim_config.rate_limit = (int) v;
				break;
			case 'S':
				{
					char	   *end;

					sim_config.pending_share = strtod(optarg, &end);
					if (*optarg == '\0' || *end != '\0' || sim_config.pending_share < 0 ||
						sim_config.pending_share > 1)
					{
						fprintf(stderr, "tfsim: invalid value \"%s\" for --pending-share: expected a number 0..1\n", optarg);
						return false;
					}
					break;
				}
			case 'm':
				if (!parse_int_option("pending-ms", optarg, 0, 86400000, &v))
					return false;
				sim_config.pending_ms = (int) v;
				break;
			case 'l':
				if (!parse_int_option("lock-seconds", optarg, 0, 3600, &v))
					return false;
				sim_config.lock_seconds = (int) v;
				break;
			case 'L':
				if (!parse_int_option("res-limit", optarg, 0, 100000000, &v))
					return false;
				sim_config.res_limit = (int) v;
				break;
			case 'g':
				if (!parse_int_option("page-size", optarg, 1, 100000, &v))
					return false;
				sim_config.page_size = (int) v;
				break;
			case 't':
				if (!parse_int_option("threads", optarg, 1, 64, &v))
					return false;
				sim_config.threads = (int) v;
				break;
			case 'T':
				if (!parse_int_option("session-ttl", optarg, 1, 86400 * 365, &v))
					return false;
				sim_config.session_ttl = (int) v;
				break;
			case 'y':
				if (!parse_int_option("latency-ms", optarg, 0, 600000, &v))
					return false;
				sim_config.latency_ms = (int) v;
				break;
			case 'd':
				if (!parse_int_option("scp-delay", optarg, 0, 86400, &v))
					return false;
				sim_config.scp_delay = (int) v;
				break;
			case 'h':
				usage(stdout);
				exit(0);
			default:
				usage(stderr);
				return false;
		}
	}
	if (optind < argc)
	{
		fprintf(stderr, "tfsim: unexpected argument \"%s\"\n", argv[optind]);
		return false;
	}
	if (!sim_config.port || !sim_config.admin_port || !sim_config.tls_cert ||
		!sim_config.tls_key || !sim_config.users_file)
	{
		fprintf(stderr, "tfsim: --port, --tls-cert, --tls-key, --admin-port and --users are required\n");
		usage(stderr);
		return false;
	}
	return true;
}

/*
 * POST /_admin/reset: back to the start-up seed, with an empty request log,
 * no faults, sessions, locks or pending results, and the real clock.
 * Caller holds sim_lock.
 */
void
sim_reset_all(void)
{
	clock_reset();
	faults_clear();
	sessions_reset();
	pending_clear();
	reqlog_clear();
	sim_config.seed = startup_seed;
	sim_config.numbers = startup_numbers;
	strcpy(sim_config.resporgs, startup_resporgs);
	seed_store(startup_seed, startup_numbers);
}

static bool
write_ready_file(const char *path)
{
	char		tmp[4096];
	FILE	   *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return false;
	fprintf(f, "%d\n", (int) getpid());
	if (fclose(f) != 0)
		return false;
	return rename(tmp, path) == 0;
}

int
main(int argc, char **argv)
{
	sigset_t	sigs;
	int			sig = 0;

	if (!parse_options(argc, argv))
		return 2;

	/* block the stop signals in every thread; main waits for them below */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	xmlInitParser();

	startup_seed = sim_config.seed;
	startup_numbers = sim_config.numbers;
	strcpy(startup_resporgs, sim_config.resporgs);

	if (!sessions_load(sim_config.users_file))
		return 1;
	pthread_mutex_lock(&sim_lock);
	pending_clear();
	seed_store(sim_config.seed, sim_config.numbers);
	pthread_mutex_unlock(&sim_lock);
	sim_log("seeded %ld numbers (seed %llu) for RespOrgs %s", sim_config.numbers,
			(unsigned long long) sim_config.seed, sim_config.resporgs);

	if (!http_start())
	{
		http_stop();
		return 1;
	}
	if (sim_config.ready_file && !write_ready_file(sim_config.ready_file))
	{
		sim_log("cannot write ready file \"%s\"", sim_config.ready_file);
		http_stop();
		return 1;
	}
	sim_log("started: HTTPS API on 127.0.0.1:%d%s, admin API on 127.0.0.1:%d",
			sim_config.port, sim_config.plain_port ? " (plain HTTP too)" : "",
			sim_config.admin_port);
	if (sim_config.plain_port)
		sim_log("plain HTTP API on 127.0.0.1:%d", sim_config.plain_port);

	sigwait(&sigs, &sig);
	sim_log("stopping on signal %d", sig);
	http_stop();
	if (sim_config.ready_file)
		unlink(sim_config.ready_file);
	sim_log("stopped");
	return 0;
}
