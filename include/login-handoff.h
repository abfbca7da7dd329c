#ifndef LOGIN_HANDOFF_H
#define LOGIN_HANDOFF_H

/* What altpop-login tells the altpop process about a login, in front of
   the client's pipelined input (login-common's master data prefix):
     "ALTPOP-HANDOFF 1" [ "\tsdps\t" <view user> "\t" <host> ] "\n"
   The view user is "" for a whole host account. */

#define LOGIN_HANDOFF_MAGIC "ALTPOP-HANDOFF 1"
/* a handoff line is never longer than this */
#define LOGIN_HANDOFF_MAX_LEN 1024

struct login_handoff {
	bool sdps;
	const char *sdps_user;
	const char *sdps_host;
};

void login_handoff_append(string_t *dest, const struct login_handoff *handoff);

/* Parse a handoff at the start of data. Returns 1 and the number of bytes
   it used, 0 if data does not start with a handoff (nothing consumed), or
   -1 if it starts with the magic but is malformed. Strings are allocated
   from the data stack. */
int login_handoff_parse(const unsigned char *data, size_t size,
			struct login_handoff *handoff_r, size_t *consumed_r);

#endif
