/* fuzz_envelope.c - wire_decode on frame payloads; what decodes (and so validates) is encoded
 * again, and that must decode, validate and encode to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	L2f__Envelope *a = NULL, *b = NULL;
	const char *why = NULL;
	uint8_t *enc, *again;
	size_t len;

	if (wire_decode(data, size, &a, &why) != 0) {
		if (!why || a)
			abort();
		return 0;
	}
	len = l2f__envelope__get_packed_size(a);
	enc = malloc(len + 1);
	again = malloc(len + 1);
	if (!enc || !again)
		abort();
	if (l2f__envelope__pack(a, enc) != len)
		abort();
	if (wire_decode(enc, len, &b, &why) != 0 || wire_validate(b, &why) != 0)
		abort();
	if (b->msg_case != a->msg_case || l2f__envelope__get_packed_size(b) != len)
		abort();
	l2f__envelope__pack(b, again);
	if (memcmp(enc, again, len) != 0)
		abort();
	free(enc);
	free(again);
	l2f__envelope__free_unpacked(a, NULL);
	l2f__envelope__free_unpacked(b, NULL);
	return 0;
}
