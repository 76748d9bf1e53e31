#pragma once

#include "CoreMinimal.h"

class FInternetAddr
{
public:
	uint32 StubAddress = 0;  // host order
	int32 StubPort = 0;
};
