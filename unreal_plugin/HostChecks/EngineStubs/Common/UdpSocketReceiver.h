// Host-check stub of the Networking module's FUdpSocketReceiver: the same interface as the engine's
// (a public FRunnable; bind OnDataReceived before Start; Stop only sets the stop flag; the thread calls
// Exit after Run returns; the destructor stops the thread and waits for it), over a std::thread.
#pragma once

#include "CoreMinimal.h"
#include "HAL/Runnable.h"
#include "Interfaces/IPv4/IPv4Endpoint.h"
#include "Misc/Timespan.h"
#include "Serialization/ArrayReader.h"
#include "Sockets.h"

#include <thread>

typedef TSharedPtr<FArrayReader, ESPMode::ThreadSafe> FArrayReaderPtr;

DECLARE_DELEGATE_TwoParams(FOnSocketDataReceived, const FArrayReaderPtr&, const FIPv4Endpoint&);

class FUdpSocketReceiver : public FRunnable
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

	// FRunnable
	virtual bool Init() override { return true; }
	virtual uint32 Run() override;
	virtual void Stop() override { Stopping = true; }
	virtual void Exit() override {}

private:
	FSocket* Socket;
	FTimespan WaitTime;
	FString ThreadName;
	std::atomic<bool> Stopping{false};
	std::thread Thread;
	FOnSocketDataReceived DataReceivedDelegate;
};
