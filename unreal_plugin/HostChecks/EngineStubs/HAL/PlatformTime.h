#pragma once

#include "CoreMinimal.h"

struct FPlatformTime
{
	/** Seconds on a monotonic clock (host tests may move it forward: PmmStub::SetSecondsOffset). */
	static double Seconds();
};
