// Host-check stub of the Networking module's FUdpSocketBuilder: a real bound UDP socket, or nullptr when
// binding fails (the port is taken, the address is not this machine's), as the engine's Build() does.
#pragma once

#include "CoreMinimal.h"
#include "Interfaces/IPv4/IPv4Address.h"
#include "Interfaces/IPv4/IPv4Endpoint.h"
#include "Sockets.h"

class FUdpSocketBuilder
{
public:
	explicit FUdpSocketBuilder(const FString& InDescription) : Description(InDescription) {}

	FUdpSocketBuilder AsBlocking()
	{
		bBlocking = true;
		return *this;
	}
	FUdpSocketBuilder AsNonBlocking()
	{
		bBlocking = false;
		return *this;
	}
	FUdpSocketBuilder AsReusable()
	{
		bReusable = true;
		return *this;
	}
	FUdpSocketBuilder BoundToAddress(const FIPv4Address& Address)
	{
		BoundEndpoint.Address = Address;
		return *this;
	}
	FUdpSocketBuilder BoundToEndpoint(const FIPv4Endpoint& Endpoint)
	{
		BoundEndpoint = Endpoint;
		return *this;
	}
	FUdpSocketBuilder BoundToPort(int32 Port)
	{
		BoundEndpoint.Port = uint16(Port);
		return *this;
	}
	FUdpSocketBuilder WithReceiveBufferSize(int32 SizeInBytes)
	{
		ReceiveBufferSize = SizeInBytes;
		return *this;
	}

	FSocket* Build() const;

private:
	FString Description;
	bool bBlocking = false;
	bool bReusable = false;
	FIPv4Endpoint BoundEndpoint;
	int32 ReceiveBufferSize = 0;
};
