/* SPDX-License-Identifier: LGPL-2.1-only */
/* KPOP in altpop-login: the glue to the private KPOP mechanism in the auth
   process (messages in module/lib/kpop-mech-msg.c). The AP-REQ goes in
   chunks, the mechanism's answer decides between the greeting and the
   KRB-ERROR, PASS hands it the USER name, and the login result ends the
   KPOP phase. */

#include "login-common.h"
#include "base64.h"
#include "buffer.h"
#include "istream.h"
#include "ostream.h"
#include "safe-memset.h"
#include "str.h"
#include "kpop-services.h"
#include "kpop-mech-msg.h"
#include "altpop-login.h"
#include "login-glue.h"
#include "login-kpop.h"

void kpop_begin_auth(struct kpop_client *kpop)
{
	struct client *client = kpop->client;
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);
	const buffer_t *ap_req = kpop->parser.ap_req;
	buffer_t *initial;
	string_t *b64;

	if (!auth_client_is_connected(auth_client)) {
		/* clients_notify_auth_connected() wakes us up again */
		kpop_enter_state(kpop, KPOP_STATE_WAIT_AUTH);
		client->input_blocked = TRUE;
		return;
	}
	client->input_blocked = FALSE;

	kpop_enter_state(kpop, KPOP_STATE_VERIFYING);

	initial = t_buffer_create(KPOP_MECH_INITIAL_HEADER_SIZE +
				  I_MIN(ap_req->used, KPOP_MECH_CHUNK_SIZE));
	/* the services tickets may be for (see kpop-services.h) */
	buffer_append_c(initial, KPOP_SERVICES_MARK);
	buffer_append(initial, aclient->set->altpop_kpop_services,
		      strlen(aclient->set->altpop_kpop_services) + 1);
	kpop->ap_req_sent = kpop_mech_initial_append(initial, ap_req->data,
						     ap_req->used);
	b64 = t_str_new(MAX_BASE64_ENCODED_SIZE(initial->used) + 1);
	base64_encode(initial->data, initial->used, b64);
	safe_memset(buffer_get_modifiable_data(initial, NULL), 0,
		    initial->used);

	/* may call auth_result() right away (e.g. mechanism missing) */
	(void)client_auth_begin_private(client, KPOP_MECH_NAME, str_c(b64));
}

void kpop_auth_accepted(struct kpop_client *kpop,
			const unsigned char *ap_rep, size_t ap_rep_size)
{
	struct client *client = kpop->client;
	buffer_t *frames = t_buffer_create(8 + ap_rep_size);

	/* the ticket is used up: wipe it */
	sendauth_parser_deinit(&kpop->parser);
	kpop->mutual = ap_rep_size > 0;
	sendauth_accepted_append(frames);
	if (kpop->mutual)
		sendauth_frame_append(frames, ap_rep, ap_rep_size);
	/* one write: a second small segment would wait for the client's
	   delayed ACK (Nagle), 40 ms per login */
	o_stream_cork(client->output);
	client_send_raw_data(client, frames->data, frames->used);
	altpop_login_reply(client, ALTPOP_REPLY_OK,
			   client->set->login_greeting);
	o_stream_uncork(client->output);
	client->banner_sent = TRUE;
}

void kpop_auth_rejected(struct kpop_client *kpop,
			const struct kpop_action *action)
{
	struct client *client = kpop->client;

	sendauth_parser_deinit(&kpop->parser);
	if (action->data_size > 0) {
		buffer_t *frame = t_buffer_create(action->data_size + 4);

		sendauth_frame_append(frame, action->data, action->data_size);
		client_send_raw_data(client, frame->data, frame->used);
	}
	i_free(kpop->failure);
	kpop->failure = i_strdup(action->reason);
	/* acknowledge; the failure reply follows after Dovecot's failure
	   delay */
	kpop->send_reject_ack = TRUE;
}

void kpop_auth_send_challenge(struct client *client, const char *data)
{
	struct kpop_client *kpop = kpop_client_get(client);
	struct kpop_action action;
	buffer_t *buf;

	buf = t_buffer_create(MAX_BASE64_DECODED_SIZE(strlen(data)) + 1);
	if (altpop_base64_decode(data, strlen(data), buf) < 0)
		buffer_set_used_size(buf, 0);
	kpop_fsm_challenge(kpop->state, buf->data, buf->used,
			   kpop->ap_req_sent,
			   kpop->parser.ap_req == NULL ? 0 :
			   kpop->parser.ap_req->used, &action);
	(void)kpop_apply(kpop, &action);
}

static void kpop_send_next_chunk(struct kpop_client *kpop)
{
	const buffer_t *ap_req = kpop->parser.ap_req;
	size_t chunk = I_MIN(ap_req->used - kpop->ap_req_sent,
			     KPOP_MECH_CHUNK_SIZE);
	string_t *b64;

	kpop->send_more = FALSE;
	b64 = t_str_new(MAX_BASE64_ENCODED_SIZE(chunk) + 1);
	base64_encode(CONST_PTR_OFFSET(ap_req->data, kpop->ap_req_sent),
		      chunk, b64);
	kpop->ap_req_sent += chunk;
	client_auth_respond(kpop->client, str_c(b64));
}

void kpop_send_user(struct kpop_client *kpop)
{
	string_t *b64;

	i_assert(kpop->state == KPOP_STATE_LOGGING_IN);
	b64 = t_str_new(MAX_BASE64_ENCODED_SIZE(strlen(kpop->user)) + 1);
	base64_encode(kpop->user, strlen(kpop->user), b64);
	/* removes the input handler: pipelined commands after PASS stay in
	   the stream for the post-login process */
	client_auth_respond(kpop->client, str_c(b64));
}

/* login-common's SASL input callback (installed by the version glue) */
void altpop_kpop_auth_input(struct client *client)
{
	struct kpop_client *kpop = kpop_client_get(client);

	if (client->destroyed)
		return;
	switch (kpop->state) {
	case KPOP_STATE_VERIFYING:
		if (kpop->send_more)
			kpop_send_next_chunk(kpop);
		else
			kpop_drain_input(kpop);
		break;
	case KPOP_STATE_COMMANDS:
		kpop_commands_input(kpop);
		break;
	case KPOP_STATE_REJECTED:
		if (kpop->send_reject_ack) {
			kpop->send_reject_ack = FALSE;
			client_auth_respond(client, "");
			break;
		}
		kpop_drain_input(kpop);
		break;
	case KPOP_STATE_SENDAUTH:
	case KPOP_STATE_WAIT_AUTH:
	case KPOP_STATE_LOGGING_IN:
	case KPOP_STATE_FAILED:
		kpop_drain_input(kpop);
		break;
	}
}

void kpop_auth_result(struct client *client,
			     enum client_auth_result result,
			     const struct client_auth_reply *reply,
			     const char *text)
{
	struct kpop_client *kpop = kpop_client_get(client);

	if (client->destroyed)
		return;

	switch (kpop->state) {
	case KPOP_STATE_COMMANDS:
	case KPOP_STATE_LOGGING_IN:
		/* the POP3 greeting is out: answer in POP3 */
		if (kpop->super.auth_result != NULL)
			kpop->super.auth_result(client, result, reply, text);
		if (result == CLIENT_AUTH_RESULT_SUCCESS ||
		    result == CLIENT_AUTH_RESULT_REFERRAL_SUCCESS)
			return;
		/* the ticket is spent: no second try on this connection */
		kpop_destroy(kpop, t_strdup_printf("login failed: %s",
			text != NULL ? text : "authentication failed"));
		return;
	case KPOP_STATE_REJECTED:
		kpop_destroy(kpop, kpop_fsm_end_reason(kpop->state,
						       kpop->failure));
		return;
	case KPOP_STATE_SENDAUTH:
	case KPOP_STATE_WAIT_AUTH:
	case KPOP_STATE_VERIFYING:
	case KPOP_STATE_FAILED:
		break;
	}

	/* no greeting yet: nothing POP3 can be said to a sendauth client */
	if (result == CLIENT_AUTH_RESULT_MECH_INVALID) {
		e_error(client->event, "KPOP: the auth process does not offer "
			"the KPOP mechanism: add kpop to auth_mechanisms "
			"(libmech_kpop.so must be in the auth module "
			"directory)");
	}
	kpop_destroy(kpop, kpop->failure != NULL ? kpop->failure :
		     t_strdup_printf("authentication failed before the "
				     "greeting (%s)", text != NULL ? text :
				     "no reason given"));
}
