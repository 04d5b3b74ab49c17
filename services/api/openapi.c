/* openapi.c: the OpenAPI 3.1 document of GET /v1/openapi.json, made at run
 * time from the route table (routes.c) and the protobuf descriptors the
 * program was built with, never written by hand: a route or a field added
 * is documented by that alone. Schemas follow the JSON the gateway reads
 * and writes (crm/input.h, crm/pbjson.h): proto field names, 64-bit
 * integers as strings (numbers accepted), enums by name, bytes as base64,
 * no other properties. */
#include "api.h"

#include <crm/version.h>

#include <stdio.h>
#include <string.h>

static const char *s_ref_prefix = "#/components/schemas/";

static json_t *s_ref(const char *name)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s%s", s_ref_prefix, name);
    return json_pack("{s:s}", "$ref", buf);
}

static void s_add_message(json_t *schemas, const ProtobufCMessageDescriptor *d);

static void s_add_enum(json_t *schemas, const ProtobufCEnumDescriptor *e)
{
    if (json_object_get(schemas, e->name))
        return;
    json_t *vals = json_array();
    for (unsigned i = 0; i < e->n_values; i++)
        json_array_append_new(vals, json_string(e->values[i].name));
    json_object_set_new(schemas, e->name, json_pack("{s:s, s:o}", "type", "string", "enum", vals));
}

static json_t *s_field_schema(json_t *schemas, const ProtobufCFieldDescriptor *f)
{
    json_t *t;
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        t = json_pack("{s:s}", "type", "string");
        break;
    case PROTOBUF_C_TYPE_BYTES:
        t = json_pack("{s:s, s:s}", "type", "string", "contentEncoding", "base64");
        break;
    case PROTOBUF_C_TYPE_BOOL:
        t = json_pack("{s:s}", "type", "boolean");
        break;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        t = json_pack("{s:s}", "type", "number");
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        /* The proto3 JSON mapping: written as a decimal string, read from
         * either. */
        t = json_pack("{s:[s,s], s:s}", "type", "string", "integer", "format", "int64");
        break;
    case PROTOBUF_C_TYPE_ENUM:
        s_add_enum(schemas, f->descriptor);
        t = s_ref(((const ProtobufCEnumDescriptor *)f->descriptor)->name);
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        s_add_message(schemas, f->descriptor);
        t = s_ref(((const ProtobufCMessageDescriptor *)f->descriptor)->name);
        break;
    default:
        t = json_pack("{s:s, s:s}", "type", "integer", "format", "int32");
        break;
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return json_pack("{s:s, s:o}", "type", "array", "items", t);
    return t;
}

static void s_add_message(json_t *schemas, const ProtobufCMessageDescriptor *d)
{
    if (json_object_get(schemas, d->name))
        return;
    json_t *props = json_object();
    json_t *schema = json_pack("{s:s, s:o, s:b}", "type", "object", "properties", props,
                               "additionalProperties", 0);
    /* Set before the fields: a message that contains itself ends here. */
    json_object_set_new(schemas, d->name, schema);
    for (unsigned i = 0; i < d->n_fields; i++)
        json_object_set_new(props, d->fields[i].name, s_field_schema(schemas, &d->fields[i]));
}

static json_t *s_problem_response(const char *what)
{
    return json_pack("{s:s, s:{s:{s:o}}}", "description", what, "content",
                     "application/problem+json", "schema", s_ref("Problem"));
}

static int s_is_param(const api_route_t *r, const char *name)
{
    char pat[80];
    snprintf(pat, sizeof pat, "{%s}", name);
    return strstr(r->path, pat) != NULL;
}

static json_t *s_operation(json_t *schemas, const api_route_t *r)
{
    char opid[128];
    snprintf(opid, sizeof opid, "%s", r->command);
    for (char *p = opid; *p; p++)
        if (*p == '.')
            *p = '_';
    json_t *op =
        json_pack("{s:s, s:s, s:[s]}", "operationId", opid, "summary", r->summary, "tags", r->tag);
    json_t *params = json_array();
    /* Path parameters, in the order of the template. */
    for (const char *p = strchr(r->path, '{'); p; p = strchr(p + 1, '{')) {
        char name[64];
        size_t n = strcspn(p + 1, "}");
        snprintf(name, sizeof name, "%.*s", (int)n, p + 1);
        json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:{s:s}}", "name", name, "in",
                                                "path", "required", 1, "schema", "type", "string"));
    }
    if ((r->flags & API_R_QUERY) && r->request)
        for (unsigned i = 0; i < r->request->n_fields; i++) {
            const ProtobufCFieldDescriptor *f = &r->request->fields[i];
            if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_BYTES ||
                s_is_param(r, f->name))
                continue;
            json_array_append_new(params, json_pack("{s:s, s:s, s:o}", "name", f->name, "in",
                                                    "query", "schema", s_field_schema(schemas, f)));
        }
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "DELETE") != 0)
        json_array_append_new(
            params, json_pack("{s:s, s:s, s:s, s:{s:s, s:i}}", "name", "Idempotency-Key", "in",
                              "header", "description",
                              "the same key when retrying gives the same answer, applied once",
                              "schema", "type", "string", "maxLength", 100));
    if (r->flags & API_R_MATCH)
        json_array_append_new(params, json_pack("{s:s, s:s, s:s, s:{s:s}}", "name", "If-Match",
                                                "in", "header", "description",
                                                "the ETag of the record as last read (412 if it "
                                                "changed since)",
                                                "schema", "type", "string"));
    if (json_array_size(params))
        json_object_set_new(op, "parameters", params);
    else
        json_decref(params);
    if (r->request && strcmp(r->method, "GET") != 0 && strcmp(r->method, "DELETE") != 0 &&
        strncmp(r->command, "gateway.", 8) != 0) {
        json_t *schema;
        if (r->body_field) {
            const ProtobufCFieldDescriptor *f =
                protobuf_c_message_descriptor_get_field_by_name(r->request, r->body_field);
            schema = s_field_schema(schemas, f);
        } else {
            s_add_message(schemas, r->request);
            schema = s_ref(r->request->name);
        }
        json_object_set_new(op, "requestBody",
                            json_pack("{s:b, s:{s:{s:o}}}", "required", 0, "content",
                                      "application/json", "schema", schema));
    }
    json_t *ok;
    if (r->reply == &crm__v1__analytics_report_reply__descriptor) {
        ok = json_pack("{s:s}", "type", "object");
    } else {
        s_add_message(schemas, r->reply);
        ok = s_ref(r->reply->name);
    }
    json_t *success = json_pack("{s:s, s:{s:{s:o}}}", "description", "the reply", "content",
                                "application/json", "schema", ok);
    if (r->flags & API_R_READ)
        json_object_set_new(success, "headers",
                            json_pack("{s:{s:s, s:{s:s}}}", "ETag", "description",
                                      "the record's version, for If-Match", "schema", "type",
                                      "string"));
    json_t *responses = json_object();
    json_object_set_new(responses, (r->flags & API_R_CREATE) ? "201" : "200", success);
    json_object_set_new(responses, "400", s_problem_response("malformed or invalid input"));
    json_object_set_new(responses, "401", s_problem_response("missing, revoked or expired token"));
    json_object_set_new(responses, "429", s_problem_response("rate limit; see Retry-After"));
    json_object_set_new(responses, "default", s_problem_response("an RFC 9457 problem"));
    json_object_set_new(op, "responses", responses);
    return op;
}

static json_t *s_plain_op(const char *id, const char *summary, const char *tag, const char *type,
                          const char *param, int secure)
{
    json_t *op =
        json_pack("{s:s, s:s, s:[s], s:{s:{s:s, s:{s:{s:{}}}}, s:o}}", "operationId", id, "summary",
                  summary, "tags", tag, "responses", "200", "description", "the answer", "content",
                  type, "schema", "default", s_problem_response("an RFC 9457 problem"));
    if (param)
        json_object_set_new(op, "parameters",
                            json_pack("[{s:s, s:s, s:b, s:{s:s}}]", "name", param, "in", "path",
                                      "required", 1, "schema", "type", "string"));
    if (!secure)
        json_object_set_new(op, "security", json_array());
    return op;
}

json_t *api_openapi(api_t *api)
{
    (void)api;
    json_t *schemas = json_object();
    json_object_set_new(
        schemas, "Problem",
        json_pack("{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}",
                  "type", "object", "properties", "type", "type", "string", "title", "type",
                  "string", "status", "type", "integer", "detail", "type", "string", "code", "type",
                  "string", "field", "type", "string", "hint", "type", "string"));
    json_t *paths = json_object();
    json_t *tags = json_array();
    for (const api_route_t *r = api_routes; r->method; r++) {
        json_t *item = json_object_get(paths, r->path);
        if (!item) {
            item = json_object();
            json_object_set_new(paths, r->path, item);
        }
        char m[16];
        size_t i = 0;
        for (; r->method[i] && i < sizeof m - 1; i++)
            m[i] = (char)(r->method[i] | 0x20);
        m[i] = '\0';
        json_object_set_new(item, m, s_operation(schemas, r));
        int seen = 0;
        json_t *t;
        size_t k;
        json_array_foreach(tags, k, t) seen |=
            !strcmp(json_string_value(json_object_get(t, "name")), r->tag);
        if (!seen)
            json_array_append_new(tags,
                                  json_pack("{s:s, s:s}", "name", r->tag, "description", r->tag));
    }
    json_array_append_new(
        tags, json_pack("{s:s, s:s}", "name", "events", "description", "the event feed"));
    json_array_append_new(tags, json_pack("{s:s, s:s}", "name", "tracking", "description",
                                          "campaign mail tracking links (no authentication)"));
    json_array_append_new(tags,
                          json_pack("{s:s, s:s}", "name", "meta", "description", "this document"));
    json_t *ev = s_plain_op("events", "the event feed as Server-Sent Events (CloudEvents 1.0 JSON)",
                            "events", "text/event-stream", NULL, 1);
    json_object_set_new(ev, "parameters",
                        json_pack("[{s:s, s:s, s:{s:s}}, {s:s, s:s, s:{s:s}}, {s:s, s:s, s:{s:s}},"
                                  " {s:s, s:s, s:{s:s}}]",
                                  "name", "from", "in", "query", "schema", "type", "string", "name",
                                  "type", "in", "query", "schema", "type", "string", "name",
                                  "source", "in", "query", "schema", "type", "string", "name",
                                  "Last-Event-ID", "in", "header", "schema", "type", "string"));
    json_object_set_new(paths, "/v1/events", json_pack("{s:o}", "get", ev));
    json_object_set_new(
        paths, "/v1/openapi.json",
        json_pack("{s:o}", "get",
                  s_plain_op("openapi", "this document", "meta", "application/json", NULL, 0)));
    json_object_set_new(paths, "/t/o/{token}",
                        json_pack("{s:o}", "get",
                                  s_plain_op("track_open", "open pixel (a 1x1 GIF)", "tracking",
                                             "image/gif", "token", 0)));
    json_object_set_new(paths, "/t/c/{token}",
                        json_pack("{s:o}", "get",
                                  s_plain_op("track_click", "tracked link (302 to its target)",
                                             "tracking", "text/plain", "token", 0)));
    json_t *unsub = json_pack("{s:o, s:o}", "get",
                              s_plain_op("track_unsubscribe_page", "unsubscribe confirmation page",
                                         "tracking", "text/html", "token", 0),
                              "post",
                              s_plain_op("track_unsubscribe", "RFC 8058 one-click unsubscribe",
                                         "tracking", "text/html", "token", 0));
    json_object_set_new(json_object_get(unsub, "post"), "requestBody",
                        json_pack("{s:b, s:{s:{s:{s:s}}}}", "required", 1, "content",
                                  "application/x-www-form-urlencoded", "schema", "type", "object"));
    json_object_set_new(paths, "/t/u/{token}", unsub);
    return json_pack("{s:s, s:{s:s, s:s, s:s}, s:[{s:s}], s:o, s:[{s:[]}, {s:[]}], s:o,"
                     " s:{s:o, s:{s:{s:s, s:s}, s:{s:s, s:s, s:s}}}}",
                     "openapi", "3.1.0", "info", "title", "CRM HTTP API", "version", CRM_VERSION,
                     "description", "The CRM's commands over HTTP and JSON (docs/api.md).",
                     "servers", "url", "/", "tags", tags, "security", "bearer", "session", "paths",
                     paths, "components", "schemas", schemas, "securitySchemes", "bearer", "type",
                     "http", "scheme", "bearer", "session", "type", "apiKey", "in", "cookie",
                     "name", "crm_session");
}
