/*
 * log.h -- log lines in CoreDNS's style ("[INFO] ...", "[ERROR] ...") on
 * standard output, one write per line so threads never interleave, the
 * query log line of the log directive, and the setup of the log and errors
 * directives.
 */
#ifndef CLUSTERDNS_LOG_H
#define CLUSTERDNS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/corefile.h"

struct setup;

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * At most one line per interval for one kind of event that may come in
 * floods (a client refused, a connection closed): log_limit_event says
 * when a line is due and how many events it stands for.  Zero-initialised
 * (static or calloc'd) is ready; shared by threads without a lock.
 */
struct log_limit {
	_Atomic uint64_t next_ms; /* no line before this time */
	_Atomic uint64_t held;	  /* events not reported in a line yet */
};

/*
 * One event of l at now_ms (a monotonic clock in milliseconds).  Returns 0
 * when no line is due (the last one was less than interval_ms ago: the
 * event is held for the next), else the number of events the line reports
 * (this one and those held since the last line, at least 1); the caller
 * then writes the line.  The first event is always reported.  Thread-safe,
 * lock-free; no event is lost or reported twice.
 */
uint64_t log_limit_event(struct log_limit *l, uint64_t now_ms,
			 uint64_t interval_ms);

/* Write log lines to fd instead of standard output (a tool whose standard
 * output is its result sets standard error).  Call before any thread logs. */
void log_set_fd(int fd);

/* What a query log line reports about one query and its response. */
struct log_query {
	const struct sockaddr *peer;
	bool tcp;
	uint16_t id;
	uint16_t qtype;
	uint16_t qclass;
	const char *qname; /* presentation form, trailing dot */
	size_t req_size;
	bool do_bit;
	uint16_t bufsize;
	const uint8_t *resp; /* the response: rcode and flags are read here */
	size_t resp_size;
	double duration;	      /* seconds */
	const struct sockaddr *local; /* {local}: may be NULL ("-") */
	uint8_t opcode;		      /* {>opcode} */
};

/*
 * Format one query log line into buf (NUL-terminated, newline not added)
 * following format's placeholders: {remote} {port} {>id} {type} {class}
 * {name} {proto} {size} {>do} {>bufsize} {rcode} {>rflags} {rsize}
 * {duration} {local} {>opcode}, plus {common} and {combined} as CoreDNS
 * defines them.  As in CoreDNS: IPv6 addresses are written in brackets,
 * {>bufsize} is 65535 on TCP, {rcode} includes the OPT's extended rcode
 * (16 is "BADSIG", unknown ones are numbers).  Unknown placeholders are
 * written as "-".  Output is truncated to len.  Returns the length.
 */
size_t log_query_format(const char *format, const struct log_query *lq,
			char *buf, size_t len);

/* The default format of the log directive. */
extern const char log_default_format[];

/* "127.0.0.1:53" or "[::1]:53" for an IPv4/IPv6 socket address into buf
 * (64 bytes are enough), "?" for other families.  Returns buf. */
const char *log_addr_str(const struct sockaddr *sa, char *buf, size_t len);

/* Write "[INFO] " + formatted line. */
void log_query(const char *format, const struct log_query *lq);

/* Names of DNS types and rcodes as CoreDNS prints them ("AAAA", "TYPE65534",
 * "NXDOMAIN", "RCODE12"); buf is used for unknown ones and needs 16 bytes. */
const char *log_type_name(uint16_t type, char *buf);
const char *log_rcode_name(unsigned rcode, char *buf);

/* How the log directive formats queries (CoreDNS's default format when not
 * given) and which responses it logs. */
enum {
	LOG_CLASS_SUCCESS = 1, /* NOERROR with answers */
	LOG_CLASS_DENIAL = 2,  /* NXDOMAIN and NODATA */
	LOG_CLASS_ERROR = 4,   /* SERVFAIL, REFUSED, FORMERR, NOTIMP... */
	LOG_CLASS_ALL = 7,
};
struct log_conf {
	char **names; /* only names under these zones; none: every name */
	size_t nnames;
	/* placeholders {remote} {port} {type} ...; never NULL: the default,
	 * {common} and {combined} are stored expanded (the strings below) */
	char *format;
	unsigned classes; /* LOG_CLASS_* bits; no class given: ALL */
};

/* CoreDNS's {common} format, also the default one; {combined} adds the
 * opcode. */
#define LOG_FORMAT_COMMON                                                      \
	"{remote}:{port} - {>id} \"{type} {class} {name} {proto} {size} "      \
	"{>do} {>bufsize}\" {rcode} {>rflags} {rsize} {duration}"
#define LOG_FORMAT_COMBINED LOG_FORMAT_COMMON " \"{>opcode}\""

/*
 * Setup of `log [NAMES...] [FORMAT] [{ class CLASSES... }]` (setup.h):
 * the conf goes to c->block->log (freed with the block).  A last argument
 * with a '{' is the format; the others are zones.  One per block.
 * Returns 0 or a negative errno with c->err set.
 */
int log_setup(struct setup *c, const struct corefile_dir *d);

/* Free l and what it holds (NULL is fine). */
void log_conf_free(struct log_conf *l);

/* Setup of `errors` (no arguments, no options yet): sets
 * c->block->errors.  Once per block.  Returns 0 or -EINVAL with c->err
 * set. */
int log_errors_setup(struct setup *c, const struct corefile_dir *d);

#endif
