// Host-check stub of the Networking module's FUdpSocketReceiver: the same interface (bind OnDataReceived
// before Start; the destructor stops the thread and waits for it), over a std::thread.
#pragma once

#include "CoreMinimal.h"
#include "Interfaces/IPv4/IPv4Endpoint.h"
#include "Misc/Timespan.h"
#include "Serialization/ArrayReader.h"
#include "Sockets.h"

#include <thread>

typedef TSharedPtr<FArrayReader, ESPMode::ThreadSafe> FArrayReaderPtr;

DECLARE_DELEGATE_TwoParams(FOnSocketDataReceived, const FArrayReaderPtr&, const FIPv4Endpoint&);

class FUdpSocketReceiver
{
public:
	FUdpSocketReceiver(FSocket* InSocket, const FTimespan& InWaitTime, const TCHAR* InThreadName)
		: Socket(InSocket), WaitTime(InWaitTime), ThreadName(InThreadName)
	{
		check(Socket != nullptr);
		check(Socket->GetSocketType() == SOCKTYPE_Datagram);
	}
	virtual ~FUdpSocketReceiver();

	void Start();
	FOnSocketDataReceived& OnDataReceived()
	{
		check(!Thread.joinable());
		return DataReceivedDelegate;
	}

private:
	void Run();

	FSocket* Socket;
	FTimespan WaitTime;
	FString ThreadName;
	std::atomic<bool> Stopping{false};
	std::thread Thread;
	FOnSocketDataReceived DataReceivedDelegate;
};
