// Driver (baseline instruction set, part of kmatrix_core). May include:
// driver_instrumentation.hpp.
//
// Test instrumentation; see driver_instrumentation.hpp.
#include "driver_instrumentation.hpp"

namespace kmatrix {
namespace {

struct CallThreads {
    int path = PATH_NONE, planned = 0, ran = 0;
    long long shared = 0;
};
thread_local CallThreads tls_call;

}  // namespace

void record_call(int path, int planned, int ran) {
    tls_call.path = path;
    tls_call.planned = planned;
    tls_call.ran = ran;
    if (ran >= 2) ++tls_call.shared;
}
long long shared_calls() { return tls_call.shared; }
int last_call_path() { return tls_call.path; }
int last_call_threads() { return tls_call.ran; }
int last_call_planned_threads() { return tls_call.planned; }

}  // namespace kmatrix
