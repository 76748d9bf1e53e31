// The Live Link source: a UDP socket and its receiver thread, the protocol core (Core/PmmtalkReceiver.h)
// behind one lock, and the Live Link client it pushes to.
//
// Threads: the receiver thread decodes each datagram and pushes static data and frames to the client
// directly (pushing is allowed from any thread); the game thread calls Update (keep-alive, status),
// the settings callbacks and RequestSourceShutdown. The lock guards the core, the client pointer and
// the output buffer; it is never held while the receiver thread is joined.
#pragma once

#include "CoreMinimal.h"
#include "Common/UdpSocketReceiver.h"
#include "HAL/CriticalSection.h"
#include "ILiveLinkSource.h"
#include "Templates/UniquePtr.h"

#include "Core/PmmtalkConnection.h"
#include "Core/PmmtalkReceiver.h"

#include <atomic>

class FSocket;
class ILiveLinkClient;

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

private:
	enum class EListenState : uint8
	{
		NotStarted,
		Listening,
		CannotBind,  // the port is taken, or the address is not this machine's
		Stopped,
	};

	void StartReceiver();
	void StopReceiver();
	void Reconfigure(const Pmmtalk::FSourceConfig& NewConfig);
	void HandleDatagram(const FArrayReaderPtr& Datagram, const FIPv4Endpoint& Sender);
	/** Turns the core's output into Live Link calls. Lock must be held. */
	void PushOutput();
	void RefreshStatus(double NowSeconds);

	// Game thread only.
	Pmmtalk::FSourceConfig Config;
	FSocket* Socket = nullptr;
	TUniquePtr<FUdpSocketReceiver> Receiver;
	EListenState ListenState = EListenState::NotStarted;
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
	ILiveLinkClient* Client = nullptr;
	FGuid SourceGuid;
	double UtcOffsetSeconds = 0.0;

	/** Set first thing in RequestSourceShutdown: a datagram already being handled is then dropped. */
	std::atomic<bool> bStopping{false};
};
