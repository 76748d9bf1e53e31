// Host-check stub of the Sockets module's FSocket, over a POSIX UDP socket (real datagrams in the tests).
#pragma once

#include "CoreMinimal.h"
#include "Misc/Timespan.h"

class FInternetAddr;

enum ESocketType
{
	SOCKTYPE_Unknown,
	SOCKTYPE_Datagram,
	SOCKTYPE_Streaming
};

namespace ESocketWaitConditions
{
enum Type
{
	WaitForRead,
	WaitForWrite,
	WaitForReadOrWrite
};
}

class FSocket
{
public:
	explicit FSocket(int InDescriptor) : Descriptor(InDescriptor) {}
	~FSocket() { Close(); }
	FSocket(const FSocket&) = delete;
	FSocket& operator=(const FSocket&) = delete;

	bool Close();
	bool Wait(ESocketWaitConditions::Type Condition, FTimespan WaitTime);
	bool HasPendingData(uint32& PendingDataSize);
	bool RecvFrom(uint8* Data, int32 BufferSize, int32& BytesRead, FInternetAddr& Source);
	ESocketType GetSocketType() const { return SOCKTYPE_Datagram; }
	/** The bound port (host tests). */
	int32 StubBoundPort() const;

private:
	std::atomic<int> Descriptor;
};
