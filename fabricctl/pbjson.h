/*
 * pbjson.h - JSON (json-c) from any protobuf-c message, by its descriptor: what fabricctl's
 * --json prints is the typed message the daemon sent, field for field, under the .proto's
 * field names. Addresses (bytes of 4 or 16) and MACs (6) as text, other bytes as hex;
 * enums by name; a repeated Counter as one object {name: value}; an absent optional scalar,
 * string or bytes as null, an absent optional message left out.
 */
#ifndef FABRICCTL_PBJSON_H
#define FABRICCTL_PBJSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <protobuf-c/protobuf-c.h>

json_object *pbjson(const ProtobufCMessage *m);
/* An address (4 or 16 bytes) or a MAC (6) field as text in buf ("-" when of another length). */
const char *pb_addr_text(const ProtobufCBinaryData *b, char *buf);
const char *pb_mac_text(const ProtobufCBinaryData *b, char *buf);
/* One element of a JSON array printed page by page (o is put): "[" before the first (*first
 * true), "]" by pbjson_end. */
void pbjson_element(json_object *o, bool *first);
void pbjson_end(bool first);
/* pbjson(m), pretty, on stdout with a newline. */
void pbjson_print(const ProtobufCMessage *m);

#endif
