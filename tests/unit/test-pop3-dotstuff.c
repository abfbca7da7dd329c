/* Unit tests of module/lib/pop3-dotstuff.c */

#include "lib.h"
#include "str.h"
#include "test-common.h"
#include "pop3-dotstuff.h"

/* Convert msg fed in two pieces, cut at offset cut. */
static const char *convert(const char *msg, bool top, uoff_t lines,
			   size_t cut)
{
	struct pop3_dotstuff ctx;
	string_t *out = t_str_new(128);
	unsigned char buf[256];
	size_t len = strlen(msg), pos = 0, used, out_size;
	size_t pieces[2] = { cut, len - cut };

	pop3_dotstuff_init(&ctx, top, lines);
	for (unsigned int i = 0; i < 2 && !ctx.done; i++) {
		i_assert(pieces[i] * 2 <= sizeof(buf));
		used = pop3_dotstuff_convert(&ctx, (const void *)(msg + pos),
					     pieces[i], buf, &out_size);
		str_append_data(out, buf, out_size);
		pos += used;
	}
	str_append(out, pop3_dotstuff_trailer(&ctx));
	return str_c(out);
}

static void test_pop3_dotstuff(void)
{
	static const struct {
		const char *msg;
		bool top;
		uoff_t lines;
		const char *out;
	} tests[] = {
		{ "", FALSE, 0, ".\r\n" },
		{ "a: b\n\nbody\n.\n", FALSE, 0,
		  "a: b\r\n\r\nbody\r\n..\r\n.\r\n" },
		{ "a: b\r\n\r\n.x\r\nno end", FALSE, 0,
		  "a: b\r\n\r\n..x\r\nno end\r\n.\r\n" },
		{ "a: b\n\n1\n2\n3\n", TRUE, 0, "a: b\r\n\r\n.\r\n" },
		{ "a: b\n\n1\n2\n3\n", TRUE, 2, "a: b\r\n\r\n1\r\n2\r\n.\r\n" },
		{ "a: b\n\r\n1\n2\n", TRUE, 1, "a: b\r\n\r\n1\r\n.\r\n" },
		/* a line of two CRs is not the end of the header */
		{ "a: b\n\r\r\nc: d\n\n1\n", TRUE, 0,
		  "a: b\r\n\r\r\nc: d\r\n\r\n.\r\n" },
	};

	test_begin("pop3_dotstuff");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		size_t len = strlen(tests[i].msg);

		/* the same output wherever the chunks are cut */
		for (size_t cut = 0; cut <= len; cut++) {
			test_assert_idx(strcmp(convert(tests[i].msg,
				tests[i].top, tests[i].top ? tests[i].lines :
				UOFF_T_MAX, cut), tests[i].out) == 0,
				i * 100 + cut);
		}
	}
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_pop3_dotstuff,
		NULL
	};
	return test_run(test_functions);
}
