/* SPDX-License-Identifier: MIT */
/*
 * Validation of image headers and metadata.  Pure code, no libc (the
 * restorer links it): every count, offset and address read from a file is
 * checked here before anything else looks at it.
 */
#include "common/image.h"

static int bytes_equal(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

uint64_t img_header_sum(const struct img_header *h)
{
	struct img_header copy = *h;

	copy.header_sum = 0;
	return img_sum(&copy, sizeof(copy));
}

/* What every header must be, compressed or not. */
static int header_basics(const struct img_header *h, uint64_t actual_file_size)
{
	if (actual_file_size < IMG_HEADER_SIZE)
		return bytes_equal(h->magic, IMG_MAGIC, 8) ? IMG_E_SHORT : IMG_E_MAGIC;
	if (!bytes_equal(h->magic, IMG_MAGIC, 8))
		return IMG_E_MAGIC;
	if (h->version > IMG_VERSION)
		return IMG_E_VERSION;
	if (h->arch != IMG_ARCH_X86_64)
		return IMG_E_ARCH;
	if (h->version != IMG_VERSION || h->header_size != sizeof(*h) || h->page_size != IMG_PAGE)
		return IMG_E_LAYOUT;
	if (h->hostname[sizeof(h->hostname) - 1] || h->progname[sizeof(h->progname) - 1])
		return IMG_E_LAYOUT;
	if (img_header_sum(h) != h->header_sum)
		return IMG_E_HEADER_SUM;
	if (h->flags & ~IMG_F_ZSTD)
		return IMG_E_LAYOUT;
	return IMG_OK;
}

int img_header_check_compressed(const struct img_header *h, uint64_t actual_file_size)
{
	int err = header_basics(h, actual_file_size);

	if (err)
		return err;
	if (!(h->flags & IMG_F_ZSTD) || h->file_size < IMG_HEADER_SIZE)
		return IMG_E_LAYOUT;
	if (h->stored_size != actual_file_size)
		return h->stored_size > actual_file_size ? IMG_E_SHORT : IMG_E_LAYOUT;
	return IMG_OK;
}

int img_header_check(const struct img_header *h, uint64_t actual_file_size)
{
	int err = header_basics(h, actual_file_size);

	if (err)
		return err;
	if (h->flags & IMG_F_ZSTD)
		return IMG_E_COMPRESSED;
	if (h->file_size != actual_file_size)
		return h->file_size > actual_file_size ? IMG_E_SHORT : IMG_E_LAYOUT;
	if (h->meta_len > IMG_MAX_META || h->meta_off < IMG_HEADER_SIZE ||
	    h->meta_off > h->file_size || h->meta_len > h->file_size - h->meta_off)
		return IMG_E_LAYOUT;
	if (h->nregions > IMG_MAX_REGIONS || h->nthreads > IMG_MAX_THREADS ||
	    h->nthreads == 0 || h->nsections > IMG_MAX_SECTIONS ||
	    h->nruns > IMG_MAX_META / sizeof(struct img_run))
		return IMG_E_LAYOUT;
	if (h->ndeps > IMG_MAX_DEPS || h->nrefs > IMG_MAX_META / sizeof(struct img_ref))
		return IMG_E_LAYOUT;
	uint64_t need = (uint64_t)h->nregions * sizeof(struct img_region) +
			(uint64_t)h->nruns * sizeof(struct img_run) +
			(uint64_t)h->nthreads * sizeof(struct img_thread) +
			(uint64_t)h->nsections * sizeof(struct img_section) +
			(uint64_t)h->nrefs * sizeof(struct img_ref) +
			(uint64_t)h->ndeps * sizeof(struct img_dep) + h->strings_len;
	if (need != h->meta_len)
		return IMG_E_LAYOUT;
	return IMG_OK;
}

static int region_check(const struct img_header *h, const struct img_meta *m,
			const struct img_region *r, uint64_t prev_end)
{
	if (r->start % IMG_PAGE || r->end % IMG_PAGE || r->start >= r->end ||
	    r->end > IMG_USER_TOP || r->start < prev_end)
		return IMG_E_LAYOUT;
	if (r->path_len && (r->path_off > h->strings_len ||
			    r->path_len > h->strings_len - r->path_off ||
			    m->strings[r->path_off + r->path_len - 1] != 0))
		return IMG_E_LAYOUT;
	if (r->run_first > h->nruns || r->nruns > h->nruns - r->run_first)
		return IMG_E_LAYOUT;
	uint64_t pages = (r->end - r->start) / IMG_PAGE, counted = 0, next = 0;
	for (uint32_t i = 0; i < r->nruns; i++) {
		const struct img_run *run = &m->runs[r->run_first + i];
		if (run->npages == 0 || run->page < next || run->page > pages ||
		    run->npages > pages - run->page)
			return IMG_E_LAYOUT;
		next = run->page + run->npages;
		counted += run->npages;
	}
	if (counted != r->npages)
		return IMG_E_LAYOUT;
	if (r->npages && (r->data_off % IMG_PAGE || r->data_off < IMG_HEADER_SIZE ||
			  r->data_off > h->meta_off ||
			  r->npages > (h->meta_off - r->data_off) / IMG_PAGE))
		return IMG_E_LAYOUT;
	return IMG_OK;
}

int img_meta_check(const struct img_header *h, const void *meta, struct img_meta *out)
{
	const char *p = meta;

	if (img_sum(meta, h->meta_len) != h->meta_sum)
		return IMG_E_META_SUM;
	out->regions = (const void *)p;
	p += (uint64_t)h->nregions * sizeof(struct img_region);
	out->runs = (const void *)p;
	p += (uint64_t)h->nruns * sizeof(struct img_run);
	out->threads = (const void *)p;
	p += (uint64_t)h->nthreads * sizeof(struct img_thread);
	out->sections = (const void *)p;
	p += (uint64_t)h->nsections * sizeof(struct img_section);
	out->refs = (const void *)p;
	p += (uint64_t)h->nrefs * sizeof(struct img_ref);
	out->deps = (const void *)p;
	p += (uint64_t)h->ndeps * sizeof(struct img_dep);
	out->strings = p;
	if (h->strings_len && out->strings[h->strings_len - 1] != 0)
		return IMG_E_LAYOUT;

	uint64_t prev_end = 0;
	for (uint32_t i = 0; i < h->nregions; i++) {
		int err = region_check(h, out, &out->regions[i], prev_end);
		if (err)
			return err;
		prev_end = out->regions[i].end;
	}
	for (uint32_t i = 0; i < h->nsections; i++) {
		const struct img_section *s = &out->sections[i];
		if (s->name[sizeof(s->name) - 1] != 0 || s->off < IMG_HEADER_SIZE ||
		    s->off > h->meta_off || s->len > h->meta_off - s->off)
			return IMG_E_LAYOUT;
	}
	for (uint32_t i = 0; i < h->ndeps; i++) {
		const struct img_dep *d = &out->deps[i];
		if (d->path[sizeof(d->path) - 1] != 0 || !d->path[0] || d->path[0] == '/' ||
		    d->file_size < IMG_HEADER_SIZE)
			return IMG_E_LAYOUT;
		for (const char *c = d->path; *c; c++)
			if (c[0] == '.' && c[1] == '.')
				return IMG_E_LAYOUT; /* stays inside the checkpoint directory */
	}
	for (uint32_t i = 0; i < h->nrefs; i++) {
		const struct img_ref *f = &out->refs[i];
		if (f->region >= h->nregions || f->dep >= h->ndeps || !f->npages ||
		    (i && f->region < out->refs[i - 1].region) || /* sorted by region */
		    f->src_off % IMG_PAGE || f->src_off < IMG_HEADER_SIZE)
			return IMG_E_LAYOUT;
		const struct img_region *r = &out->regions[f->region];
		uint64_t pages = (r->end - r->start) / IMG_PAGE;
		if (f->page >= pages || f->npages > pages - f->page ||
		    f->src_off + f->npages * IMG_PAGE > out->deps[f->dep].file_size ||
		    f->src_off + f->npages * IMG_PAGE < f->src_off)
			return IMG_E_LAYOUT;
	}
	return IMG_OK;
}

const char *img_strerror(int err)
{
	switch (err) {
	case IMG_OK: return "ok";
	case IMG_E_SHORT: return "truncated image (shorter than its header says)";
	case IMG_E_MAGIC: return "not a Cocoon image";
	case IMG_E_VERSION: return "written by a newer Cocoon (unknown format version)";
	case IMG_E_ARCH: return "image is for another architecture";
	case IMG_E_HEADER_SUM: return "header checksum mismatch (image damaged?)";
	case IMG_E_META_SUM: return "metadata checksum mismatch (image damaged?)";
	case IMG_E_LAYOUT: return "inconsistent layout (image damaged?)";
	case IMG_E_DATA_SUM: return "region data checksum mismatch (image damaged?)";
	case IMG_E_COMPRESSED: return "compressed image: only cocoon restart and inspect read it";
	case IMG_E_NO_ZSTD: return "compressed image, and libzstd.so.1 cannot be loaded";
	}
	return "unknown error";
}
