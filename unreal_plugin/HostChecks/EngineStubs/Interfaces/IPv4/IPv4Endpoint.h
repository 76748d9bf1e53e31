#pragma once

#include "CoreMinimal.h"
#include "IPAddress.h"
#include "Interfaces/IPv4/IPv4Address.h"

struct FIPv4Endpoint
{
	FIPv4Endpoint() = default;
	FIPv4Endpoint(const FIPv4Address& InAddress, uint16 InPort) : Address(InAddress), Port(InPort) {}
	explicit FIPv4Endpoint(const TSharedRef<FInternetAddr>& InternetAddr)
		: Address(InternetAddr->StubAddress), Port(uint16(InternetAddr->StubPort))
	{
	}
	FIPv4Address Address;
	uint16 Port = 0;
};
