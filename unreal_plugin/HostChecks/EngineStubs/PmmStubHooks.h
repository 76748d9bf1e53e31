// What host tests may do to the stub engine that no engine API offers: move the clock, read the log.
#pragma once

#include "CoreMinimal.h"

#include <string>
#include <vector>

namespace PmmStub
{
/** FPlatformTime::Seconds() returns the real monotonic time plus this (keep-alive tests move time on). */
void SetSecondsOffset(double Seconds);

/**
 * Each wait of an FUdpSocketReceiver thread for a datagram lasts this much longer than its wait time
 * (0 by default): a shutdown test makes the wait long enough to tell "returned at once" from "waited".
 */
void SetSocketWaitExtraSeconds(double Seconds);

/** Every UE_LOG line so far, as "Category: Verbosity: message". */
std::vector<std::string> LogLines();
void ClearLog();
/** Echo log lines to stderr (off by default, so test output stays readable). */
void SetLogEcho(bool bEcho);
}  // namespace PmmStub
