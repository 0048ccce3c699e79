/* Replacing the process image (exec.c): execve. */
#ifndef HAAGENT_EXEC_H
#define HAAGENT_EXEC_H

#include "napi_args.h"

napi_value haagent_execve(napi_env env, napi_callback_info info);

#endif
