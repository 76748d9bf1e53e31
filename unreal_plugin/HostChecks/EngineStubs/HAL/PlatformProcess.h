// Host-check stub of HAL/PlatformProcess.h (Core): the one call the plugin makes.
#pragma once

#include "CoreMinimal.h"

struct FPlatformProcess
{
	static void Sleep(float Seconds);
};
