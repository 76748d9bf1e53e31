#pragma once

#include "CoreMinimal.h"
#include "IPAddress.h"
#include "Sockets.h"

#define PLATFORM_SOCKETSUBSYSTEM FName()

class ISocketSubsystem
{
public:
	static ISocketSubsystem* Get(const FName& SubsystemName = NAME_None);
	void DestroySocket(FSocket* Socket) { delete Socket; }
	TSharedRef<FInternetAddr> CreateInternetAddr() { return MakeShared<FInternetAddr>(); }
};
