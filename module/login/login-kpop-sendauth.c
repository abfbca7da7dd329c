/* KPOP in altpop-login: the sendauth phase. The client's two version
   messages are answered with the verdict byte, the AP-REQ is collected
   (module/lib/sendauth.c frames the bytes) and handed to
   login-kpop-auth.c. */

#include "login-common.h"
#include "istream.h"
#include "sendauth.h"
#include "kpop-mech-msg.h"
#include "altpop-login.h"
#include "login-kpop.h"

static void kpop_refuse_versions(struct kpop_client *kpop)
{
	const struct sendauth_parser *parser = &kpop->parser;
	const char *what;

	if (parser->verdict == SENDAUTH_VERDICT_BAD_SENDAUTH_VERSION) {
		what = t_strdup_printf("unsupported sendauth version \"%s\" "
				       "(expected \"%s\")",
				       parser->sendauth_version,
				       SENDAUTH_VERSION);
	} else {
		what = t_strdup_printf("unsupported application version "
				       "\"%s\" (expected \"%s\")",
				       parser->appl_version,
				       KPOP_APPL_VERSION);
	}
	kpop_destroy(kpop, what);
}

static void kpop_sendauth_error(struct kpop_client *kpop)
{
	struct client *client = kpop->client;

	if (kpop->parser.error == SENDAUTH_ERROR_KRB4) {
		/* a Kerberos IV client cannot parse anything we could say;
		   a human testing the port with telnet can */
		client_send_raw(client, "-ERR [SYS/PERM] Kerberos IV KPOP is "
				"not supported, use Kerberos V5.\r\n");
	}
	kpop_destroy(kpop, sendauth_error_str(&kpop->parser));
}

void kpop_sendauth_input(struct kpop_client *kpop)
{
	struct client *client = kpop->client;
	const unsigned char *data;
	enum sendauth_result ret;
	unsigned char verdict;
	size_t size, consumed;

	switch (i_stream_read(client->input)) {
	case -1:
		kpop_destroy(kpop, t_strdup_printf(
			"client disconnected %s",
			sendauth_parser_describe_state(&kpop->parser)));
		return;
	case -2:
		/* cannot happen: everything is consumed in this phase */
		kpop_destroy(kpop, "input buffer full");
		return;
	default:
		break;
	}

	for (;;) {
		data = i_stream_get_data(client->input, &size);
		ret = sendauth_parser_feed(&kpop->parser, data, size,
					   &consumed);
		i_stream_skip(client->input, consumed);
		switch (ret) {
		case SENDAUTH_RESULT_MORE:
			return;
		case SENDAUTH_RESULT_VERSIONS:
			verdict = (unsigned char)kpop->parser.verdict;
			client_send_raw_data(client, &verdict, 1);
			if (kpop->parser.verdict != SENDAUTH_VERDICT_OK) {
				kpop_refuse_versions(kpop);
				return;
			}
			sendauth_parser_verdict_sent(&kpop->parser);
			break;
		case SENDAUTH_RESULT_AP_REQ:
			/* the rest of the input is POP3, left in the stream */
			kpop_begin_auth(kpop);
			return;
		case SENDAUTH_RESULT_ERROR:
			kpop_sendauth_error(kpop);
			return;
		}
	}
}
