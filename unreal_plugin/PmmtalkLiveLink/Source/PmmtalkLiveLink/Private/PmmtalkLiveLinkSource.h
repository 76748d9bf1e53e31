// The Live Link source: a UDP socket and its receiver thread, the protocol core (Protocol/PmmtalkReceiver.h)
// behind one lock, and the Live Link client it pushes to.
//
// Threads: the receiver thread decodes each datagram and pushes static data and frames to the client
// itself (pushing is allowed from any thread); the game thread calls Update (keep-alive, status, a retry
// of a port that could not be bound, the connection string kept in the settings), the settings
// callbacks and RequestSourceShutdown.
//
// Locks: the engine's client, in several versions, holds its own lock while it calls Update and
// RequestSourceShutdown, and takes it in every push. So this source never calls the client while
// holding its lock (Lock guards the core and a queue of pushes; whichever thread finds no other thread
// pushing drains the queue, in order, with Lock released), and the game thread never waits for the
// receiver thread: RequestSourceShutdown closes the gate the thread reaches this source through and
// says "not yet" only while a datagram is being handled; a receiver no longer used is told to stop and
// left to end its wait on its own (it closes its socket as it ends; Update deletes it later).
#pragma once

#include "CoreMinimal.h"
#include "Common/UdpSocketReceiver.h"
#include "HAL/CriticalSection.h"
#include "ILiveLinkSource.h"
#include "Templates/UniquePtr.h"
#include "UObject/WeakObjectPtr.h"

#include "Protocol/PmmtalkConnection.h"
#include "Protocol/PmmtalkReceiver.h"

#include <atomic>
#include <string>
#include <vector>

class FSocket;
class ILiveLinkClient;
class FPmmtalkReceiverThread;
class UPmmtalkLiveLinkSourceSettings;

class FPmmtalkLiveLinkSource : public ILiveLinkSource
{
public:
	/** Config must pass Pmmtalk::ValidateConfig (the factory and the Blueprint function check it). */
	explicit FPmmtalkLiveLinkSource(const Pmmtalk::FSourceConfig& InConfig);
	virtual ~FPmmtalkLiveLinkSource();

	// ILiveLinkSource
	virtual void ReceiveClient(ILiveLinkClient* InClient, FGuid InSourceGuid) override;
	virtual void InitializeSettings(ULiveLinkSourceSettings* Settings) override;
	virtual void Update() override;
	virtual bool IsSourceStillValid() const override;
	virtual bool RequestSourceShutdown() override;
	virtual FText GetSourceType() const override;
	virtual FText GetSourceMachineName() const override;
	virtual FText GetSourceStatus() const override;
	virtual TSubclassOf<ULiveLinkSourceSettings> GetSettingsClass() const override;
	virtual void OnSettingsChanged(ULiveLinkSourceSettings* Settings, const FPropertyChangedEvent& PropertyChangedEvent) override;

	/** The connection string that recreates this source (what a Live Link preset stores). */
	FString GetConnectionString() const;

	/** Deletes receivers whose thread has ended (all of them, waiting, when bWait: module shutdown). */
	static void DeleteStoppedReceivers(bool bWait);

private:
	enum class EListenState : uint8
	{
		NotStarted,
		Listening,
		CannotBind,  // the port is taken, or the address is not this machine's
		Stopped,
	};

	/**
	 * What the receiver thread calls, shared with it: once closed (and nothing in flight), the thread
	 * never reaches this source again, so the source can go while the thread ends its wait.
	 */
	struct FDatagramGate
	{
		FPmmtalkLiveLinkSource* Source = nullptr;
		std::atomic<bool> bOpen{true};
		/** Datagrams being handled (0 or 1): shutdown says "not yet" while one is. */
		std::atomic<int32> InFlight{0};
	};

	/** Binds the port and starts the receiver thread; on failure, a retry is due in a moment. */
	void StartReceiver(double NowSeconds);
	/** Tells the receiver thread to stop, without waiting for it (it closes the socket as it ends). */
	void StopReceiver();
	void Reconfigure(const Pmmtalk::FSourceConfig& NewConfig);
	void HandleDatagram(const FArrayReaderPtr& Datagram, const FIPv4Endpoint& Sender);
	/** Moves the core's output to the queue. Lock must be held. */
	void QueueOutput();
	/** Pushes the queue to the client, unless another thread is at it (it pushes these too). Lock must not be held. */
	void DrainQueue();
	void PushToClient(ILiveLinkClient& Target, const FGuid& Guid, double UtcOffset, const Pmmtalk::FPush& Push) const;
	void RefreshStatus(double NowSeconds);
	/** The connection string (and options) back in the settings object if something overwrote them. */
	void KeepSettingsInStep();

	// Game thread only.
	Pmmtalk::FSourceConfig Config;
	FPmmtalkReceiverThread* Receiver = nullptr;  // owns its socket; handed to the stopped list when done with
	EListenState ListenState = EListenState::NotStarted;
	double NextBindAttemptSeconds = 0.0;
	bool bBindFailureLogged = false;
	/** The settings object Live Link made for this source (InitializeSettings); it may go away first. */
	TWeakObjectPtr<UPmmtalkLiveLinkSourceSettings> SettingsObject;
	FString SettingsProblem;
	FText StatusText;
	double RateWindowStartSeconds = 0.0;
	uint64 RateWindowStartDatagrams = 0;
	double PacketsPerSecond = 0.0;
	double UtcOffsetCheckedSeconds = -1.0e9;

	// Guarded by Lock.
	mutable FCriticalSection Lock;
	Pmmtalk::FReceiver Core;
	Pmmtalk::FReceiverOutput Output;
	std::vector<Pmmtalk::FPush> Queue;
	std::vector<std::string> QueuedLogs;
	bool bDraining = false;
	ILiveLinkClient* Client = nullptr;
	FGuid SourceGuid;
	double UtcOffsetSeconds = 0.0;

	/** Set first thing in RequestSourceShutdown (game thread only). */
	bool bStopping = false;
	TSharedRef<FDatagramGate, ESPMode::ThreadSafe> Gate;
};
