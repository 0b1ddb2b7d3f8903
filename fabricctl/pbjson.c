/* pbjson.c - protobuf-c message -> json-c object by reflection; see pbjson.h. */
#include <stdio.h>
#include <string.h>
#include "addr.h"
#include "fabric.pb-c.h"
#include "pbjson.h"

const char *pb_addr_text(const ProtobufCBinaryData *b, char *buf)
{
	struct ipaddr a = { .af = b->len == 4 ? AF_INET : AF_INET6 };

	if (b->len != 4 && b->len != 16)
		return "-";
	memcpy(a.b, b->data, b->len);
	return ipaddr_fmt(&a, buf);
}

const char *pb_mac_text(const ProtobufCBinaryData *b, char *buf)
{
	struct mac m;

	if (b->len != MAC_LEN)
		return "-";
	memcpy(m.b, b->data, MAC_LEN);
	return mac_fmt(&m, buf);
}

static json_object *bytes_json(const ProtobufCBinaryData *b)
{
	char buf[IPADDR_STRLEN > MAC_STRLEN ? IPADDR_STRLEN : MAC_STRLEN];
	json_object *o;
	char *hex;

	if (b->len == 4 || b->len == 16)
		return json_object_new_string(pb_addr_text(b, buf));
	if (b->len == MAC_LEN)
		return json_object_new_string(pb_mac_text(b, buf));
	hex = malloc(b->len * 2 + 1);
	if (!hex)
		return NULL;
	for (size_t i = 0; i < b->len; i++)
		snprintf(hex + 2 * i, 3, "%02x", b->data[i]);
	hex[b->len * 2] = 0;
	o = json_object_new_string(hex);
	free(hex);
	return o;
}

/* One value of field f at p. */
static json_object *value_json(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return json_object_new_int(*(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return json_object_new_int64(*(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return json_object_new_int64(*(const int64_t *)p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return json_object_new_uint64(*(const uint64_t *)p);
	case PROTOBUF_C_TYPE_FLOAT:
		return json_object_new_double(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return json_object_new_double(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return json_object_new_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *v =
			protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p);

		return v ? json_object_new_string(v->name) : json_object_new_int(*(const int *)p);
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;

		return s ? json_object_new_string(s) : NULL;
	}
	case PROTOBUF_C_TYPE_BYTES:
		return bytes_json(p);
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;

		return m ? pbjson(m) : NULL;
	}
	}
	return NULL;
}

static size_t value_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

/* Present: required, a repeated one (possibly empty), an optional with has_ set or a
 * pointer that is not NULL. */
static int present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;

	if (f->label == PROTOBUF_C_LABEL_REQUIRED || f->label == PROTOBUF_C_LABEL_REPEATED)
		return 1;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
	if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(void *const *)(base + f->offset) != NULL;
	return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
}

json_object *pbjson(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	json_object *o = json_object_new_object();

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *at = (const char *)m + f->offset;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
			const char *arr = *(const char *const *)at;
			bool counters = f->type == PROTOBUF_C_TYPE_MESSAGE &&
					f->descriptor == &l2f__counter__descriptor;
			json_object *v = counters ? json_object_new_object() : json_object_new_array();

			for (size_t k = 0; k < n; k++) {
				const void *e = arr + k * value_size(f);

				if (counters) {
					const L2f__Counter *c = *(L2f__Counter *const *)e;

					json_object_object_add(v, c->name, json_object_new_uint64(c->value));
				} else {
					json_object_array_add(v, value_json(f, e));
				}
			}
			json_object_object_add(o, f->name, v);
		} else if (present(m, f)) {
			json_object_object_add(o, f->name, value_json(f, at));
		} else if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
			json_object_object_add(o, f->name, NULL);
		}
	}
	return o;
}

void pbjson_print(const ProtobufCMessage *m)
{
	json_object *root = pbjson(m);

	printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

void pbjson_element(json_object *o, bool *first)
{
	printf("%s%s", *first ? "[\n" : ",\n",
	       json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						 JSON_C_TO_STRING_NOSLASHESCAPE));
	*first = false;
	json_object_put(o);
}

void pbjson_end(bool first)
{
	printf("%s\n", first ? "[]" : "\n]");
}
