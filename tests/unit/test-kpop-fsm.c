/* SPDX-License-Identifier: LGPL-2.1-only */
/* The KPOP state machine of altpop-kpop-login (module/login/kpop-fsm.c) driven
   with the bytes a KPOP client sends: the sendauth phase (framed by
   module/lib/sendauth.c), the mechanism's answer, then the POP3 command
   lines after the ticket as the line reader (module/lib/pop3-line-reader.c)
   takes them, pipelined or not. Each step's action and state are written
   down as the session (kpop-session.c) would apply them (tests/lib/kpop-fsm-drive.c,
   shared with the fuzz target); fed in every cut into three chunks and one
   byte at a time, the record must be the same. */

#include "lib.h"
#include "buffer.h"
#include "str.h"
#include "test-common.h"
#include "kpop-mech-msg.h"
#include "kpop-fsm-drive.h"

/* most chunks a stream is fed in */
#define TEST_KPOP_MAX_CHUNKS 256

static const unsigned char test_ap_req[] = {
	0x6e, 0x82, 0x00, 0x0d, 0x0a, 0x00, 0xff, 0x0d, 0x30, 0x31
};
/* after the ticket: a good line, one with a NUL, one with a bare CR, one
   with a bare LF end, PASS, and a line for the post-login process */
static const char test_pop3[] =
	"USER alice\r\nUSER alice\0mallory\r\nCAPA\rX\r\nCAPA\nPASS x\r\n"
	"STAT\r\n";
static const char *const test_events =
	"cont[verdict 0] begin-auth(ap-req=10)=>ticket verification "
	"greet(3)=>USER/PASS "
	"cont(user=alice)[+OK] cont[-ERR] cont[-ERR] run(CAPA) "
	"respond(alice)=>login ";

/* Feed wire in chunks ending at the given offsets (the last one is
   wire->used); returns the record. */
static const char *test_kpop_feed(const buffer_t *wire, const size_t *ends,
				  unsigned int count)
{
	struct kpop_fsm_drive drive;
	const char *record;

	kpop_fsm_drive_init(&drive, wire->data, wire->used);
	for (unsigned int i = 0; i < count; i++)
		kpop_fsm_drive_feed(&drive, ends[i]);
	record = t_strdup(str_c(drive.record));
	kpop_fsm_drive_deinit(&drive);
	return record;
}

static buffer_t *test_kpop_wire(const char *sendauth_version,
				const char *pop3)
{
	buffer_t *wire = t_buffer_create(256);

	sendauth_frame_append(wire, sendauth_version,
			      strlen(sendauth_version) + 1);
	sendauth_frame_append(wire, KPOP_APPL_VERSION,
			      strlen(KPOP_APPL_VERSION) + 1);
	sendauth_frame_append(wire, test_ap_req, sizeof(test_ap_req));
	buffer_append(wire, pop3, strlen(pop3));
	return wire;
}

static void test_kpop_fsm_cuts(void)
{
	buffer_t *wire = test_kpop_wire(SENDAUTH_VERSION, "");
	size_t ends[TEST_KPOP_MAX_CHUNKS];
	unsigned int failures = 0;

	/* test_pop3 has a NUL: appended by its size */
	buffer_append(wire, test_pop3, sizeof(test_pop3) - 1);
	test_begin("kpop fsm: every cut into three chunks");
	i_assert(wire->used <= TEST_KPOP_MAX_CHUNKS);
	for (size_t a = 0; a <= wire->used && failures < 5; a++) {
		for (size_t b = a; b <= wire->used && failures < 5; b++) {
			T_BEGIN {
				ends[0] = a; ends[1] = b; ends[2] = wire->used;
				if (strcmp(test_kpop_feed(wire, ends, 3),
					   test_events) != 0) {
					test_assert_idx(FALSE, a * 1000 + b);
					failures++;
				}
			} T_END;
		}
	}
	test_end();

	test_begin("kpop fsm: one byte at a time");
	for (size_t i = 0; i < wire->used; i++)
		ends[i] = i + 1;
	test_assert_strcmp(test_kpop_feed(wire, ends, wire->used), test_events);
	test_end();
}

static void test_kpop_fsm_refused(void)
{
	const buffer_t *wire = test_kpop_wire("KRB5_SENDAUTH_V0.9", "CAPA\r\n");
	const char *expected = "disconnect(unsupported sendauth version "
		"\"KRB5_SENDAUTH_V0.9\" (expected \"KRB5_SENDAUTH_V1.0\"))"
		"[verdict 1] ";
	size_t ends[TEST_KPOP_MAX_CHUNKS];

	test_begin("kpop fsm: a refused version reads no POP3");
	for (size_t i = 0; i < wire->used; i++)
		ends[i] = i + 1;
	test_assert_strcmp(test_kpop_feed(wire, ends, wire->used), expected);
	ends[0] = wire->used;
	test_assert_strcmp(test_kpop_feed(wire, ends, 1), expected);
	test_end();
}

static void test_kpop_fsm_krb4(void)
{
	buffer_t *wire = t_buffer_create(32);
	size_t end;

	test_begin("kpop fsm: a Kerberos IV client is told and disconnected");
	buffer_append(wire, "AUTHV0.1", 8);
	end = wire->used;
	test_assert_strcmp(test_kpop_feed(wire, &end, 1),
		"disconnect(Kerberos IV client (krb_sendauth \"AUTHV0.1\"): "
		"only Kerberos V5 KPOP is supported)[-ERR [SYS/PERM] Kerberos IV KPOP is not "
		"supported, use Kerberos V5.] ");
	test_end();
}

/* The commands after the ticket, one session; returns the record of the
   command phase with the reply texts. */
static const char *test_kpop_commands_wire(const buffer_t *wire,
					   size_t max_line)
{
	static const char greeted[] = "=>USER/PASS ";
	struct kpop_fsm_drive drive;
	const char *record;

	kpop_fsm_drive_init(&drive, wire->data, wire->used);
	drive.replies_text = TRUE;
	drive.max_line = max_line;
	kpop_fsm_drive_feed(&drive, wire->used);
	/* what follows the greeting */
	record = strstr(str_c(drive.record), greeted);
	i_assert(record != NULL);
	record = t_strdup(record + strlen(greeted));
	kpop_fsm_drive_deinit(&drive);
	return record;
}

static const char *test_kpop_commands(const char *pop3, size_t max_line)
{
	return test_kpop_commands_wire(test_kpop_wire(SENDAUTH_VERSION, pop3),
				       max_line);
}

static void test_kpop_fsm_commands(void)
{
	static const struct {
		const char *input;
		const char *record;
	} tests[] = {
		{ "CAPA\r\n", "run(CAPA) " },
		{ "capa extra\r\n", "run(CAPA) " },
		{ "STLS\r\n", "run(STLS) " },
		/* STLS forgets the USER name given in plaintext */
		{ "USER a\r\nSTLS\r\nPASS x\r\n",
		  "cont(user=a)[+OK Send PASS (any text) to log in with your "
		  "Kerberos ticket.] run(STLS)(user=) "
		  "cont[-ERR No username given (send USER first).] " },
		{ "PASS krb_ticket\r\n",
		  "cont[-ERR No username given (send USER first).] " },
		{ "USER\r\n", "cont[-ERR USER needs a user name.] " },
		{ "USER a b\r\n", "cont[-ERR Invalid user name.] " },
		{ "USER bob\r\nPASS bob\r\n",
		  "cont(user=bob)[+OK Send PASS (any text) to log in with "
		  "your Kerberos ticket.] respond(bob)=>login " },
		{ "QUIT\r\nCAPA\r\n", "disconnect(logout)[+OK Logging out] " },
		{ "AUTH GSSAPI\r\n",
		  "cont[-ERR This is the KPOP port: you are authenticated by "
		  "Kerberos, send USER <name> and PASS.] " },
		{ "APOP a b\r\n",
		  "cont[-ERR This is the KPOP port: you are authenticated by "
		  "Kerberos, send USER <name> and PASS.] " },
		{ "UTF8\r\n",
		  "cont[-ERR Unknown command: only CAPA, STLS, USER, PASS and "
		  "QUIT are allowed before login on the KPOP port.] " },
		{ "XCLIENT ADDR=192.0.2.1\r\n",
		  "cont[-ERR Unknown command: only CAPA, STLS, USER, PASS and "
		  "QUIT are allowed before login on the KPOP port.] " },
		{ "\r\n", "cont[-ERR Empty command.] " },
		{ "C@PA\r\n",
		  "cont[-ERR Invalid characters in command name.] " },
		{ "CAPA\rUSER a\r\n",
		  "cont[-ERR Invalid characters in command line.] " },
		/* three bad commands in a row */
		{ "X\r\nY\r\nZ\r\nCAPA\r\n",
		  "cont[-ERR Unknown command: only CAPA, STLS, USER, PASS and "
		  "QUIT are allowed before login on the KPOP port.] "
		  "cont[-ERR Unknown command: only CAPA, STLS, USER, PASS and "
		  "QUIT are allowed before login on the KPOP port.] "
		  "disconnect(too many bad commands)[-ERR Unknown command: "
		  "only CAPA, STLS, USER, PASS and QUIT are allowed before "
		  "login on the KPOP port.][Too many bad commands.] " },
		/* a command that was answered ends the run, a bad USER too */
		{ "\r\n\r\nCAPA\r\n\r\n\r\nUSER\r\n\r\n\r\nPASS x\r\n",
		  "cont[-ERR Empty command.] cont[-ERR Empty command.] "
		  "run(CAPA) "
		  "cont[-ERR Empty command.] cont[-ERR Empty command.] "
		  "cont[-ERR USER needs a user name.] "
		  "cont[-ERR Empty command.] cont[-ERR Empty command.] "
		  "cont[-ERR No username given (send USER first).] " },
		/* pipelined behind PASS: left for the post-login process */
		{ "USER c\r\nPASS\r\nSTAT\r\nLIST\r\n",
		  "cont(user=c)[+OK Send PASS (any text) to log in with your "
		  "Kerberos ticket.] respond(c)=>login " },
		/* no complete line: nothing happens yet */
		{ "USER al", "" },
	};
	char long_user[KPOP_MAX_USER_LEN + 2];

	test_begin("kpop fsm: commands after the ticket");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) T_BEGIN {
		test_assert_strcmp_idx(test_kpop_commands(tests[i].input, 0),
				       tests[i].record, i);
	} T_END;

	memset(long_user, 'u', sizeof(long_user) - 1);
	long_user[sizeof(long_user) - 1] = '\0';
	test_assert_strcmp(test_kpop_commands(t_strdup_printf(
		"USER %s\r\n", long_user), 0),
		"cont[-ERR Invalid user name.] ");
	long_user[sizeof(long_user) - 2] = '\0';
	test_assert_strcmp(test_kpop_commands(t_strdup_printf(
		"USER %s\r\n", long_user), 0), t_strdup_printf(
		"cont(user=%s)[+OK Send PASS (any text) to log in with your "
		"Kerberos ticket.] ", long_user));
	test_end();
}

static void test_kpop_fsm_nul_line(void)
{
	static const char input[] = "USER a\0b\r\nCAPA\r\n";
	buffer_t *wire = test_kpop_wire(SENDAUTH_VERSION, "");

	test_begin("kpop fsm: a line with a NUL is one bad command");
	buffer_append(wire, input, sizeof(input) - 1);
	test_assert_strcmp(test_kpop_commands_wire(wire, 0),
		"cont[-ERR Invalid characters in command line.] run(CAPA) ");
	test_end();
}

static void test_kpop_fsm_too_long(void)
{
	test_begin("kpop fsm: an over-long line is left to client_read()");
	/* the input buffer (the line limit) is full without an LF */
	test_assert_strcmp(test_kpop_commands(
		"USER aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"\r\n", 32), "too-long:more ");
	test_end();
}

static const char *
test_kpop_challenge(enum kpop_state state, const void *msg, size_t size,
		    size_t sent, size_t total)
{
	struct kpop_fsm_drive drive;
	struct kpop_action a;
	const char *record;

	kpop_fsm_drive_init(&drive, "", 0);
	/* a machine in state with total AP-REQ bytes, sent of them with the
	   mechanism */
	drive.fsm.state = drive.state = state;
	buffer_append_zero(drive.fsm.parser.ap_req, total);
	drive.fsm.ap_req_sent = sent;
	drive.replies_text = TRUE;
	kpop_fsm_challenge(&drive.fsm, msg, size, &a);
	if (a.kind == KPOP_ACTION_REJECT)
		str_printfa(drive.record, "krb-error=%zu ", a.data_size);
	kpop_fsm_drive_record(&drive, &a);
	if (a.kind == KPOP_ACTION_READ_MORE) {
		/* what login-common's SASL input callback then gets */
		size_t used;

		kpop_fsm_input(&drive.fsm, KPOP_READ_OK, NULL, 0, TRUE,
			       &used, &a);
		kpop_fsm_drive_record(&drive, &a);
	}
	record = t_strdup(str_c(drive.record));
	kpop_fsm_drive_deinit(&drive);
	return record;
}

static void test_kpop_fsm_challenges(void)
{
	buffer_t *rejected = t_buffer_create(64);
	static const unsigned char krb_error[] = { 0x7e, 0x03, 0x02, 0x01 };
	static const unsigned char more = KPOP_MECH_CHALLENGE_MORE;
	static const unsigned char accept = KPOP_MECH_CHALLENGE_ACCEPTED;
	static const unsigned char bad = 'Q';

	test_begin("kpop fsm: the mechanism's answers");
	/* the next chunk goes from the SASL input callback: the 808 bytes
	   after the first 8192 */
	test_assert_strcmp(test_kpop_challenge(KPOP_STATE_VERIFYING, &more, 1,
					       8192, 9000),
		"more respond(808 bytes) ");
	test_assert_strcmp(test_kpop_challenge(KPOP_STATE_VERIFYING, &more, 1,
					       9000, 9000),
		"more=>failed disconnect(auth process asked for more AP-REQ "
		"data than there is) ");
	test_assert_strcmp(test_kpop_challenge(KPOP_STATE_VERIFYING,
					       &accept, 1, 10, 10),
			   "greet(0)=>USER/PASS ");
	kpop_mech_rejected_append(rejected, "Ticket expired\x01",
				  krb_error, sizeof(krb_error));
	/* the KRB-ERROR, then the acknowledgement from the SASL input
	   callback */
	test_assert_strcmp(test_kpop_challenge(KPOP_STATE_VERIFYING,
					       rejected->data, rejected->used,
					       10, 10),
		"krb-error=4 reject(Ticket expired?)=>ticket rejected ");
	test_assert_strcmp(test_kpop_challenge(KPOP_STATE_VERIFYING,
					       rejected->data, 2, 10, 10),
		"more=>failed disconnect(malformed rejection from the auth "
		"process) ");
	test_assert_strcmp(test_kpop_challenge(KPOP_STATE_VERIFYING, &bad, 1,
					       10, 10),
		"more=>failed disconnect(unknown reply from the auth "
		"process) ");
	test_assert_strcmp(test_kpop_challenge(KPOP_STATE_VERIFYING, NULL, 0,
					       10, 10),
		"more{KPOP: invalid reply from the KPOP authentication "
		"mechanism}=>failed disconnect(invalid reply from the auth "
		"process) ");
	test_assert_strcmp(test_kpop_challenge(KPOP_STATE_COMMANDS,
					       &accept, 1, 10, 10),
		"more{KPOP: unexpected reply from the KPOP authentication "
		"mechanism in state USER/PASS}=>failed disconnect(unexpected "
		"reply from the auth process) ");
	test_end();
}

/* A machine in state (failure: the kept one) timing out. */
static void test_kpop_timeout(enum kpop_state state, const char *failure,
			      struct kpop_fsm *fsm, struct kpop_action *a)
{
	fsm->state = state;
	i_free(fsm->failure);
	fsm->failure = i_strdup(failure);
	kpop_fsm_timeout(fsm, a);
}

static void test_kpop_fsm_timeouts(void)
{
	struct kpop_fsm fsm;
	struct kpop_action a;
	unsigned char byte = 0;
	size_t used;

	test_begin("kpop fsm: timeouts");
	kpop_fsm_init(&fsm, 0, KPOP_FSM_DRIVE_SERVICES, KPOP_FSM_DRIVE_MAX_BAD);
	(void)sendauth_parser_feed(&fsm.parser, &byte, 1, &used);
	test_kpop_timeout(KPOP_STATE_SENDAUTH, NULL, &fsm, &a);
	test_assert(a.kind == KPOP_ACTION_DISCONNECT &&
		    a.reply == KPOP_REPLY_NONE);
	test_assert_strcmp(a.reason, t_strdup_printf("timed out %s",
		sendauth_parser_describe_state(&fsm.parser)));

	test_kpop_timeout(KPOP_STATE_COMMANDS, NULL, &fsm, &a);
	test_assert(a.kind == KPOP_ACTION_DISCONNECT &&
		    a.reply == KPOP_REPLY_ERROR);
	test_assert_strcmp(a.reply_text, "Disconnected for inactivity.");
	test_assert_strcmp(a.reason, "timed out waiting for USER/PASS");
	test_kpop_timeout(KPOP_STATE_LOGGING_IN, NULL, &fsm, &a);
	test_assert(a.reply == KPOP_REPLY_TEMPFAIL);
	test_assert_strcmp(a.reason, "timed out waiting for the login result");
	test_kpop_timeout(KPOP_STATE_VERIFYING, NULL, &fsm, &a);
	test_assert(a.reply == KPOP_REPLY_NONE);
	test_kpop_timeout(KPOP_STATE_REJECTED, "Ticket expired", &fsm, &a);
	test_assert_strcmp(a.reason, "ticket rejected: Ticket expired");
	test_kpop_timeout(KPOP_STATE_FAILED, NULL, &fsm, &a);
	test_assert_strcmp(a.reason, "failed");
	kpop_fsm_deinit(&fsm);

	/* every state has a name; the waits before the greeting are
	   bounded */
	for (enum kpop_state st = 0; st < KPOP_STATE_COUNT; st++)
		test_assert_idx(kpop_state_name(st) != NULL, st);
	test_assert(kpop_state_timeout_msecs(KPOP_STATE_SENDAUTH) > 0);
	test_assert(kpop_state_timeout_msecs(KPOP_STATE_VERIFYING) > 0);
	test_assert(kpop_state_timeout_msecs(KPOP_STATE_COMMANDS) > 0);
	test_end();
}

/* The events around the ticket that the byte-driven tests do not reach:
   a missing mechanism, the auth server away, a rejection acknowledged,
   the login result. */
static void test_kpop_fsm_auth_events(void)
{
	buffer_t *wire = test_kpop_wire(SENDAUTH_VERSION, "CAPA\r\n");
	buffer_t *rejected = t_buffer_create(64);
	static const unsigned char krb_error[] = { 0x7e, 0x03, 0x02, 0x01 };
	struct kpop_fsm_drive drive;
	struct kpop_action a;
	size_t used, consumed = 0;

	test_begin("kpop fsm: auth server, rejection, login result");
	kpop_fsm_drive_init(&drive, wire->data, wire->used);
	kpop_fsm_start(&drive.fsm, FALSE, &a);
	test_assert(a.kind == KPOP_ACTION_DISCONNECT && a.log_error != NULL);
	kpop_fsm_drive_deinit(&drive);

	/* the AP-REQ complete while the auth server is away: wait, keep
	   the POP3 bytes; EOF then ends it */
	kpop_fsm_drive_init(&drive, wire->data, wire->used);
	kpop_fsm_start(&drive.fsm, TRUE, &a);
	test_assert(a.kind == KPOP_ACTION_READ_MORE && a.state_changed &&
		    a.timeout_msecs > 0);
	do {
		kpop_fsm_input(&drive.fsm, KPOP_READ_OK, CONST_PTR_OFFSET(wire->data, consumed),
			       wire->used - consumed, FALSE, &used, &a);
		consumed += used;
		kpop_fsm_drive_record(&drive, &a);
	} while (a.kind == KPOP_ACTION_CONTINUE);
	test_assert(a.kind == KPOP_ACTION_WAIT_AUTH);
	test_assert(wire->used - consumed == strlen("CAPA\r\n"));
	/* input again, still away: nothing read */
	kpop_fsm_input(&drive.fsm, KPOP_READ_OK, CONST_PTR_OFFSET(wire->data, consumed),
		       wire->used - consumed, FALSE, &used, &a);
	test_assert(used == 0);
	kpop_fsm_drive_record(&drive, &a);
	/* back: the ticket goes to the mechanism */
	kpop_fsm_input(&drive.fsm, KPOP_READ_OK, CONST_PTR_OFFSET(wire->data, consumed),
		       wire->used - consumed, TRUE, &used, &a);
	test_assert(used == 0);
	kpop_fsm_drive_record(&drive, &a);
	/* rejected: the KRB-ERROR, the acknowledgement once, then input is
	   dropped; the failure result ends it */
	kpop_mech_rejected_append(rejected, "Request is a replay",
				  krb_error, sizeof(krb_error));
	kpop_fsm_challenge(&drive.fsm, rejected->data, rejected->used, &a);
	kpop_fsm_drive_record(&drive, &a);
	kpop_fsm_input(&drive.fsm, KPOP_READ_OK, NULL, 0, TRUE, &used, &a);
	kpop_fsm_drive_record(&drive, &a);
	kpop_fsm_input(&drive.fsm, KPOP_READ_OK, CONST_PTR_OFFSET(wire->data, consumed),
		       wire->used - consumed, TRUE, &used, &a);
	test_assert(used == wire->used - consumed);
	kpop_fsm_drive_record(&drive, &a);
	kpop_fsm_auth_result(&drive.fsm, FALSE, FALSE, "Authentication failed",
			     &a);
	kpop_fsm_drive_record(&drive, &a);
	test_assert_strcmp(str_c(drive.record),
		"cont[verdict 0] wait-auth=>waiting for the auth server "
		"wait-auth begin-auth(ap-req=10)=>ticket verification "
		"reject(Request is a replay)=>ticket rejected respond() more "
		"disconnect(ticket rejected: Request is a replay) ");
	kpop_fsm_drive_deinit(&drive);

	/* after the greeting the login result is POP3; a failure ends the
	   connection (the ticket is spent) */
	kpop_fsm_drive_init(&drive, wire->data, wire->used);
	kpop_fsm_drive_feed(&drive, wire->used);
	drive.ended = FALSE;
	kpop_fsm_auth_result(&drive.fsm, TRUE, FALSE, NULL, &a);
	test_assert(a.kind == KPOP_ACTION_LOGIN_RESULT && a.reason == NULL);
	kpop_fsm_auth_result(&drive.fsm, FALSE, FALSE, "Password mismatch",
			     &a);
	test_assert(a.kind == KPOP_ACTION_LOGIN_RESULT);
	test_assert_strcmp(a.reason, "login failed: Password mismatch");
	test_assert(kpop_fsm_speaks_pop3(&drive.fsm));
	kpop_fsm_drive_deinit(&drive);

	/* before the greeting: no POP3; a missing mechanism is logged */
	kpop_fsm_drive_init(&drive, "", 0);
	test_assert(!kpop_fsm_speaks_pop3(&drive.fsm));
	kpop_fsm_auth_result(&drive.fsm, FALSE, TRUE, "Unsupported", &a);
	test_assert(a.kind == KPOP_ACTION_DISCONNECT && a.log_error != NULL);
	test_assert_strcmp(a.reason, "authentication failed before the "
			   "greeting (Unsupported)");
	kpop_fsm_drive_deinit(&drive);
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_kpop_fsm_cuts,
		test_kpop_fsm_refused,
		test_kpop_fsm_krb4,
		test_kpop_fsm_commands,
		test_kpop_fsm_nul_line,
		test_kpop_fsm_too_long,
		test_kpop_fsm_challenges,
		test_kpop_fsm_timeouts,
		test_kpop_fsm_auth_events,
		NULL
	};
	return test_run(test_functions);
}
