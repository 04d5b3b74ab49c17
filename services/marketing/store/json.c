/* store/json.c: the JSON array parameters every store file builds (channels,
 * ids, tags), unpacked in SQL by jsonb_array_elements. */
#include "store_int.h"

#include <jansson.h>

json_t *mkt_store_ints(const int *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_integer(v[i]));
    return a;
}

json_t *mkt_store_strings(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}
