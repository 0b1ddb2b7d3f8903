/* fuzz_config.c - the three configuration loaders (vipd.yaml, fabricd.yaml, vtepd.yaml, all
 * through lib/conf) on arbitrary bytes: no crash, no leak, no out-of-bounds access, and a
 * file that loads prints without trouble. The input goes through a file, as a daemon reads
 * one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../fabricd/config.h"
#include "../../vipd/config.h"
#include "../../vtepd/config.h"

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct daemon dm;     /* no flags: the file alone */
	static struct fabricd_cfg fc;
	static struct vtepd_cfg tc;
	struct vipd_cfg vc;
	char err[512];
	FILE *f, *null;

	if (!path[0]) {
		int fd;

		snprintf(path, sizeof(path), "/tmp/fuzz_config.XXXXXX");
		fd = mkstemp(path);
		if (fd < 0)
			abort();
		close(fd);
	}
	f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	null = fopen("/dev/null", "w");
	if (!null)
		abort();
	if (vipd_cfg_load(path, &vc, err, sizeof(err)) == 0) {
		vipd_cfg_print(&vc, null);
		vipd_cfg_free(&vc);
	}
	if (fabricd_cfg_load(path, &dm, &fc, err, sizeof(err)) == 0)
		fabricd_cfg_print(&fc, null);
	if (vtepd_cfg_load(path, &dm, &tc, err, sizeof(err)) == 0)
		vtepd_cfg_print(&tc, null);
	fclose(null);
	return 0;
}
