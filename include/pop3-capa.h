#ifndef POP3_CAPA_H
#define POP3_CAPA_H

/* The one place that builds CAPA replies (RFC 2449) for both processes. */

enum pop3_capa_flags {
	/* pre-auth: STARTTLS can be offered */
	POP3_CAPA_FLAG_STLS = 0x01,
	/* pre-auth: USER/PASS allowed on this connection */
	POP3_CAPA_FLAG_USER = 0x02,
	/* SDPS extensions (*ENV) available */
	POP3_CAPA_FLAG_SDPS = 0x04,
};

/* Append a complete multi-line CAPA reply ("+OK ..." through ".") to dest.
   sasl_mechs is a NULL-terminated list, or NULL for no SASL line. After
   login the flags USER and the mechanisms are the ones announced before
   login (RFC 2449 section 5). */
void pop3_capa_append_reply(string_t *dest, enum pop3_capa_flags flags,
			    const char *const *sasl_mechs);

#endif
