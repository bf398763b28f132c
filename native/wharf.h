/* The parts of Wharf's native addon, each adding its functions to the exports. */
#ifndef WHARF_H
#define WHARF_H
#define NAPI_VERSION 8
#include <node_api.h>

void register_sendfile(napi_env env, napi_value exports);
void register_open(napi_env env, napi_value exports);
void register_list(napi_env env, napi_value exports);

#endif
