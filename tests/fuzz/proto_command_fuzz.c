/*
 * libFuzzer target for proto_command_parse(), the daemon's reader of
 * subscriber command lines. A command that parses must format, and the
 * formatted line must parse to the same command.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_command	 c1, c2;
	char			 err[256], buf[64];
	char			*copy;
	int			 n;

	/* An exact-size copy, so ASan catches any read past len. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(copy, data, size);
	if (proto_command_parse(copy, size, &c1, err, sizeof(err)) == -1) {
		if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
			abort();
		goto done;
	}
	if (c1.cmd != PROTO_CMD_SNAPSHOT && c1.cmd != PROTO_CMD_WATCH &&
	    c1.cmd != PROTO_CMD_KILL)
		abort();
	if (c1.cmd == PROTO_CMD_KILL ? c1.id == 0 : c1.id != 0)
		abort();
	if ((n = proto_command_format(&c1, buf, sizeof(buf))) <= 0 ||
	    (size_t)n != strlen(buf))
		abort();
	if (proto_command_parse(buf, (size_t)n, &c2, err, sizeof(err)) == -1)
		abort();
	if (c2.cmd != c1.cmd || c2.id != c1.id)
		abort();
done:
	free(copy);
	return 0;
}
