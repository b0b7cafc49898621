/*
 * libFuzzer target for proto_decode(), the monitor's reader of daemon
 * lines. Whatever decodes must encode again, and that line must decode
 * and encode to the very same bytes: the encoder and the decoder agree
 * on everything the decoder accepts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_msg	*m1, *m2;
	char			 err[256];
	char			*line1 = NULL, *line2 = NULL;
	size_t			 len1, len2;

	/* On the heap, so ASan sees overruns of the big struct. */
	if ((m1 = malloc(sizeof(*m1))) == NULL ||
	    (m2 = malloc(sizeof(*m2))) == NULL)
		abort();
	if (proto_decode((const char *)data, size, m1, err, sizeof(err)) ==
	    -1) {
		if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
			abort();
		goto done;
	}
	if ((line1 = proto_encode(m1, &len1)) == NULL)
		abort();
	if (len1 != strlen(line1) || line1[len1 - 1] != '\n' ||
	    memchr(line1, '\n', len1 - 1) != NULL)
		abort();
	if (proto_decode(line1, len1, m2, err, sizeof(err)) == -1)
		abort();
	if (m2->type != m1->type)
		abort();
	if ((line2 = proto_encode(m2, &len2)) == NULL)
		abort();
	if (len1 != len2 || memcmp(line1, line2, len1) != 0)
		abort();
done:
	free(line1);
	free(line2);
	free(m1);
	free(m2);
	return 0;
}
