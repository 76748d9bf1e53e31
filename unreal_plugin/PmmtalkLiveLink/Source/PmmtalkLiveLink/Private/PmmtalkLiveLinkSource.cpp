#include "PmmtalkLiveLinkSource.h"

#include "Common/UdpSocketBuilder.h"
#include "HAL/PlatformProcess.h"
#include "HAL/PlatformTime.h"
#include "ILiveLinkClient.h"
#include "Interfaces/IPv4/IPv4Address.h"
#include "Interfaces/IPv4/IPv4Endpoint.h"
#include "LiveLinkTypes.h"
#include "Misc/DateTime.h"
#include "Misc/QualifiedFrameTime.h"
#include "Misc/ScopeLock.h"
#include "Misc/Timespan.h"
#include "PmmtalkLiveLinkConfig.h"
#include "PmmtalkLiveLinkLog.h"
#include "PmmtalkLiveLinkSourceFactory.h"
#include "PmmtalkLiveLinkSourceSettings.h"
#include "Roles/LiveLinkBasicRole.h"
#include "SocketSubsystem.h"
#include "Sockets.h"

#include <cmath>

#define LOCTEXT_NAMESPACE "PmmtalkLiveLinkSource"

namespace PmmtalkLiveLinkSourcePrivate
{
/** Room for a burst of datagrams while the receiver thread is busy (a frame is about 370 bytes). */
constexpr int32 ReceiveBufferBytes = 1024 * 1024;
/** How long the receiver thread waits for a datagram before it looks at its stop flag. */
constexpr double ReceiveWaitMilliseconds = 50.0;
/** The packets-per-second in the status is counted over windows this long. */
constexpr double RateWindowSeconds = 0.5;
/** No datagram for this long and the status says "waiting" instead of "receiving". */
constexpr double WaitingAfterSeconds = 2.0;
/** The local time zone's offset (for frame times of day) is re-read this often: daylight saving. */
constexpr double UtcOffsetRefreshSeconds = 60.0;
/** A port that could not be bound is tried again this often (another program, or a source going away). */
constexpr double BindRetrySeconds = 0.5;
/** Deleting a receiver whose thread never ended (it should within its wait) waits at most this long. */
constexpr double StopWaitLimitSeconds = 2.0;

double NowUnixSeconds()
{
	return (FDateTime::UtcNow() - FDateTime::FromUnixTimestamp(0)).GetTotalSeconds();
}

/** Local time minus UTC, in whole minutes (the two clocks are read a moment apart). */
double LocalUtcOffsetSeconds()
{
	const double Offset = (FDateTime::Now() - FDateTime::UtcNow()).GetTotalSeconds();
	return std::round(Offset / 60.0) * 60.0;
}
}  // namespace PmmtalkLiveLinkSourcePrivate

/**
 * The engine's receiver thread, owning its socket: told to stop, it ends its current wait, closes the
 * socket (the port is free from then) and says it has ended, all on its own thread; nothing waits.
 */
class FPmmtalkReceiverThread : public FUdpSocketReceiver
{
public:
	FPmmtalkReceiverThread(FSocket* InSocket, const FTimespan& InWaitTime, const TCHAR* InThreadName)
		: FUdpSocketReceiver(InSocket, InWaitTime, InThreadName)
		, OwnedSocket(InSocket)
	{
	}

	virtual ~FPmmtalkReceiverThread()
	{
		// Exit must have run before this object is torn down (the thread calls it): normally it has.
		Stop();
		const double Deadline = FPlatformTime::Seconds() + PmmtalkLiveLinkSourcePrivate::StopWaitLimitSeconds;
		while (!HasEnded() && FPlatformTime::Seconds() < Deadline)
		{
			FPlatformProcess::Sleep(0.001f);
		}
		CloseSocket();
	}

	/** Runs on the receiver thread once Run has returned: nothing touches the socket any more. */
	virtual void Exit() override
	{
		CloseSocket();
		bEnded = true;
	}

	bool HasEnded() const { return bEnded; }

private:
	void CloseSocket()
	{
		if (OwnedSocket != nullptr)
		{
			OwnedSocket->Close();
			ISocketSubsystem::Get(PLATFORM_SOCKETSUBSYSTEM)->DestroySocket(OwnedSocket);
			OwnedSocket = nullptr;
		}
	}

	FSocket* OwnedSocket;
	std::atomic<bool> bEnded{false};
};

namespace PmmtalkLiveLinkSourcePrivate
{
/** Receivers told to stop, of every source (a source may be gone before its thread has ended). */
struct FStoppedReceivers
{
	FCriticalSection Lock;
	std::vector<TUniquePtr<FPmmtalkReceiverThread>> Receivers;

	~FStoppedReceivers() { Receivers.clear(); }  // at exit: each waits for its thread
};

FStoppedReceivers& StoppedReceivers()
{
	static FStoppedReceivers Stopped;
	return Stopped;
}
}  // namespace PmmtalkLiveLinkSourcePrivate

FPmmtalkLiveLinkSource::FPmmtalkLiveLinkSource(const Pmmtalk::FSourceConfig& InConfig)
	: Config(InConfig)
	, Core(Pmmtalk::FReceiverSettings::FromConfig(InConfig))
	, Gate(MakeShared<FDatagramGate, ESPMode::ThreadSafe>())
{
	Gate->Source = this;
}

FPmmtalkLiveLinkSource::~FPmmtalkLiveLinkSource()
{
	bStopping = true;
	Gate->bOpen = false;
	StopReceiver();
	// Destroyed without a shutdown (never added, or its owner let go): a datagram may still be on its way
	// through; it finishes quickly, as nothing of the client is locked here.
	while (Gate->InFlight > 0)
	{
		FPlatformProcess::Sleep(0.001f);
	}
}

void FPmmtalkLiveLinkSource::DeleteStoppedReceivers(bool bWait)
{
	PmmtalkLiveLinkSourcePrivate::FStoppedReceivers& Stopped = PmmtalkLiveLinkSourcePrivate::StoppedReceivers();
	std::vector<TUniquePtr<FPmmtalkReceiverThread>> Ended;
	{
		FScopeLock ScopeLock(&Stopped.Lock);
		for (size_t Index = Stopped.Receivers.size(); Index-- > 0;)
		{
			if (bWait || Stopped.Receivers[Index]->HasEnded())
			{
				Ended.push_back(MoveTemp(Stopped.Receivers[Index]));
				Stopped.Receivers.erase(Stopped.Receivers.begin() + std::ptrdiff_t(Index));
			}
		}
	}
	Ended.clear();  // outside the lock: an ended thread is joined at once; with bWait, each is waited for
}

void FPmmtalkLiveLinkSource::ReceiveClient(ILiveLinkClient* InClient, FGuid InSourceGuid)
{
	{
		FScopeLock ScopeLock(&Lock);
		Client = InClient;
		SourceGuid = InSourceGuid;
		UtcOffsetSeconds = PmmtalkLiveLinkSourcePrivate::LocalUtcOffsetSeconds();
		// The expected subjects appear at once, with the 61 Live Link Face curves, before any packet.
		Output.Clear();
		Core.Announce(Output);
		QueueOutput();
	}
	DrainQueue();
	DeleteStoppedReceivers(false);
	RateWindowStartSeconds = FPlatformTime::Seconds();
	StartReceiver(RateWindowStartSeconds);
	RefreshStatus(RateWindowStartSeconds);
}

void FPmmtalkLiveLinkSource::InitializeSettings(ULiveLinkSourceSettings* Settings)
{
	UPmmtalkLiveLinkSourceSettings* PmmtalkSettings = Cast<UPmmtalkLiveLinkSourceSettings>(Settings);
	if (PmmtalkSettings == nullptr)
	{
		return;
	}
	// Kept, so that the connection string can be put back: "+ Source" empties it after this call.
	SettingsObject = PmmtalkSettings;
	PmmtalkSettings->Options = PmmtalkLiveLink::ToOptions(Config);
	PmmtalkSettings->ConnectionString = GetConnectionString();
	if (PmmtalkSettings->Factory.Get() == nullptr)
	{
		// A source made from Blueprint has no factory yet; a preset saved from it needs one.
		PmmtalkSettings->Factory = UPmmtalkLiveLinkSourceFactory::StaticClass();
	}
}

void FPmmtalkLiveLinkSource::KeepSettingsInStep()
{
	UPmmtalkLiveLinkSourceSettings* PmmtalkSettings = SettingsObject.Get();
	const FString Wanted = GetConnectionString();
	if (PmmtalkSettings != nullptr && !PmmtalkSettings->ConnectionString.Equals(Wanted))
	{
		// The Live Link window's "+ Source" writes the (empty) string it created the source with into the
		// settings after AddSource; a preset saved then would store nothing. Edits go through
		// OnSettingsChanged, which sets both, so the options shown are the running ones here too.
		PmmtalkSettings->ConnectionString = Wanted;
		PmmtalkSettings->Options = PmmtalkLiveLink::ToOptions(Config);
	}
}

void FPmmtalkLiveLinkSource::Update()
{
	const double Now = FPlatformTime::Seconds();
	DeleteStoppedReceivers(false);
	if (bStopping)
	{
		return;
	}
	if (ListenState == EListenState::CannotBind && Now >= NextBindAttemptSeconds)
	{
		StartReceiver(Now);
	}
	KeepSettingsInStep();
	{
		FScopeLock ScopeLock(&Lock);
		if (Client == nullptr)
		{
			return;
		}
		if (Now - UtcOffsetCheckedSeconds >= PmmtalkLiveLinkSourcePrivate::UtcOffsetRefreshSeconds)
		{
			UtcOffsetCheckedSeconds = Now;
			UtcOffsetSeconds = PmmtalkLiveLinkSourcePrivate::LocalUtcOffsetSeconds();
		}
		Output.Clear();
		Core.Tick(Now, Output);
		QueueOutput();
	}
	DrainQueue();
	RefreshStatus(Now);
}

bool FPmmtalkLiveLinkSource::IsSourceStillValid() const
{
	return ListenState == EListenState::Listening;
}

bool FPmmtalkLiveLinkSource::RequestSourceShutdown()
{
	bStopping = true;
	Gate->bOpen = false;
	if (Gate->InFlight > 0)
	{
		// The receiver thread may be waiting for the client's lock, which the client may hold while it
		// asks us: answer "not yet" and let the client ask again next tick.
		return false;
	}
	// From here the receiver thread never reaches this source (the gate is closed and no datagram is in
	// flight): it is told to stop and left to end its wait on its own.
	StopReceiver();
	{
		FScopeLock ScopeLock(&Lock);
		Client = nullptr;  // nor does Update or a settings change push anything after this
		Queue.clear();
	}
	ListenState = EListenState::Stopped;
	RefreshStatus(FPlatformTime::Seconds());
	return true;
}

FText FPmmtalkLiveLinkSource::GetSourceType() const
{
	return LOCTEXT("SourceType", "pmmtalk");
}

FText FPmmtalkLiveLinkSource::GetSourceMachineName() const
{
	return FText::FromString(FString::Printf(TEXT("%s:%d"), *PmmtalkLiveLink::ToFString(Config.BindAddress), Config.Port));
}

FText FPmmtalkLiveLinkSource::GetSourceStatus() const
{
	return StatusText;
}

TSubclassOf<ULiveLinkSourceSettings> FPmmtalkLiveLinkSource::GetSettingsClass() const
{
	return UPmmtalkLiveLinkSourceSettings::StaticClass();
}

void FPmmtalkLiveLinkSource::OnSettingsChanged(ULiveLinkSourceSettings* Settings, const FPropertyChangedEvent& /*PropertyChangedEvent*/)
{
	UPmmtalkLiveLinkSourceSettings* PmmtalkSettings = Cast<UPmmtalkLiveLinkSourceSettings>(Settings);
	if (PmmtalkSettings == nullptr)
	{
		return;
	}
	const Pmmtalk::FSourceConfig Wanted = PmmtalkLiveLink::ToSourceConfig(PmmtalkSettings->Options);
	const std::string Problem = Pmmtalk::ValidateConfig(Wanted);
	if (!Problem.empty())
	{
		// Keep running as before and show the edit was refused (the panel snaps back to the running values).
		SettingsProblem = PmmtalkLiveLink::ToFString(Problem);
		UE_LOG(LogPmmtalkLiveLink, Warning, TEXT("pmmtalk source settings not applied: %s"), *SettingsProblem);
		PmmtalkSettings->Options = PmmtalkLiveLink::ToOptions(Config);
	}
	else
	{
		SettingsProblem.Reset();
		Reconfigure(Wanted);
	}
	SettingsObject = PmmtalkSettings;
	PmmtalkSettings->ConnectionString = GetConnectionString();
	RefreshStatus(FPlatformTime::Seconds());
}

FString FPmmtalkLiveLinkSource::GetConnectionString() const
{
	return PmmtalkLiveLink::ToFString(Pmmtalk::ToConnectionString(Config));
}

void FPmmtalkLiveLinkSource::StartReceiver(double NowSeconds)
{
	check(Receiver == nullptr);
	if (bStopping)
	{
		return;
	}
	const FString Where = FString::Printf(TEXT("%s:%d"), *PmmtalkLiveLink::ToFString(Config.BindAddress), Config.Port);
	FIPv4Address Address;
	FSocket* Socket = nullptr;
	if (FIPv4Address::Parse(PmmtalkLiveLink::ToFString(Config.BindAddress), Address))
	{
		// Not AsReusable(): two programs sharing the port would each get an unpredictable share of the
		// datagrams. A taken port fails here and the status says so.
		Socket = FUdpSocketBuilder(TEXT("PmmtalkLiveLinkSocket"))
			.AsNonBlocking()
			.BoundToAddress(Address)
			.BoundToPort(Config.Port)
			.WithReceiveBufferSize(PmmtalkLiveLinkSourcePrivate::ReceiveBufferBytes)
			.Build();
	}
	if (Socket == nullptr)
	{
		// Tried again from Update: the other program may quit, or the source that had the port (a
		// preset being applied removes and recreates sources at once) is still letting it go.
		ListenState = EListenState::CannotBind;
		NextBindAttemptSeconds = NowSeconds + PmmtalkLiveLinkSourcePrivate::BindRetrySeconds;
		if (!bBindFailureLogged)
		{
			bBindFailureLogged = true;
			UE_LOG(LogPmmtalkLiveLink, Warning, TEXT("pmmtalk: cannot listen on %s (port in use, or not this machine's address); trying again every %.1f s"),
				*Where, PmmtalkLiveLinkSourcePrivate::BindRetrySeconds);
		}
		return;
	}
	bBindFailureLogged = false;
	Receiver = new FPmmtalkReceiverThread(Socket,
		FTimespan::FromMilliseconds(PmmtalkLiveLinkSourcePrivate::ReceiveWaitMilliseconds), TEXT("PmmtalkLiveLinkReceiver"));
	TSharedRef<FDatagramGate, ESPMode::ThreadSafe> ThreadGate = Gate;
	Receiver->OnDataReceived().BindLambda([ThreadGate](const FArrayReaderPtr& Datagram, const FIPv4Endpoint& Sender) {
		// Counted before the gate is read (and shutdown closes the gate before it reads the count), so
		// shutdown either sees this datagram in flight or this datagram sees the gate closed.
		++ThreadGate->InFlight;
		if (ThreadGate->bOpen)
		{
			ThreadGate->Source->HandleDatagram(Datagram, Sender);
		}
		--ThreadGate->InFlight;
	});
	Receiver->Start();
	ListenState = EListenState::Listening;
	UE_LOG(LogPmmtalkLiveLink, Log, TEXT("pmmtalk: listening on %s"), *Where);
}

void FPmmtalkLiveLinkSource::StopReceiver()
{
	if (Receiver != nullptr)
	{
		Receiver->Stop();
		PmmtalkLiveLinkSourcePrivate::FStoppedReceivers& Stopped = PmmtalkLiveLinkSourcePrivate::StoppedReceivers();
		FScopeLock ScopeLock(&Stopped.Lock);
		Stopped.Receivers.push_back(TUniquePtr<FPmmtalkReceiverThread>(Receiver));
		Receiver = nullptr;
	}
	if (ListenState == EListenState::Listening || ListenState == EListenState::CannotBind)
	{
		ListenState = EListenState::NotStarted;
	}
}

void FPmmtalkLiveLinkSource::Reconfigure(const Pmmtalk::FSourceConfig& NewConfig)
{
	const bool bRebind = NewConfig.Port != Config.Port || NewConfig.BindAddress != Config.BindAddress;
	if (bRebind)
	{
		// The old thread ends its wait on its own; datagrams it still hands on are received as before.
		StopReceiver();
	}
	{
		FScopeLock ScopeLock(&Lock);
		Config = NewConfig;
		Output.Clear();
		Core.SetSettings(Pmmtalk::FReceiverSettings::FromConfig(Config), Output);
		QueueOutput();
	}
	DrainQueue();
	if (bRebind)
	{
		bBindFailureLogged = false;  // a new address: say once if it cannot be had either
		StartReceiver(FPlatformTime::Seconds());  // the same port on another address may be a moment away
	}
}

void FPmmtalkLiveLinkSource::HandleDatagram(const FArrayReaderPtr& Datagram, const FIPv4Endpoint& /*Sender*/)
{
	if (Datagram.IsValid())
	{
		const double Now = FPlatformTime::Seconds();
		const double NowUnix = PmmtalkLiveLinkSourcePrivate::NowUnixSeconds();
		{
			FScopeLock ScopeLock(&Lock);
			Output.Clear();
			Core.Receive(Datagram->GetData(), size_t(Datagram->Num()), Now, NowUnix, Output);
			QueueOutput();
		}
		DrainQueue();
	}
}

void FPmmtalkLiveLinkSource::QueueOutput()
{
	if (Client == nullptr)
	{
		return;  // shut down, or not added yet: nothing to tell
	}
	for (Pmmtalk::FPush& Push : Output.Pushes)
	{
		Queue.push_back(MoveTemp(Push));
	}
	for (std::string& Line : Output.Logs)
	{
		QueuedLogs.push_back(MoveTemp(Line));
	}
	Output.Clear();
}

void FPmmtalkLiveLinkSource::DrainQueue()
{
	std::vector<Pmmtalk::FPush> Batch;
	std::vector<std::string> Logs;
	{
		FScopeLock ScopeLock(&Lock);
		if (bDraining || (Queue.empty() && QueuedLogs.empty()))
		{
			return;  // nothing to push, or another thread is pushing: it takes what was just queued too, in order
		}
		bDraining = true;
	}
	while (true)
	{
		ILiveLinkClient* Target = nullptr;
		FGuid Guid;
		double UtcOffset = 0.0;
		{
			FScopeLock ScopeLock(&Lock);
			if (Queue.empty() && QueuedLogs.empty())
			{
				bDraining = false;
				return;
			}
			Batch.swap(Queue);
			Logs.swap(QueuedLogs);
			Target = Client;
			Guid = SourceGuid;
			UtcOffset = UtcOffsetSeconds;
		}
		for (const std::string& Line : Logs)
		{
			UE_LOG(LogPmmtalkLiveLink, Warning, TEXT("%s"), *PmmtalkLiveLink::ToFString(Line));
		}
		if (Target != nullptr)
		{
			for (const Pmmtalk::FPush& Push : Batch)
			{
				PushToClient(*Target, Guid, UtcOffset, Push);
			}
		}
		Batch.clear();
		Logs.clear();
	}
}

void FPmmtalkLiveLinkSource::PushToClient(ILiveLinkClient& Target, const FGuid& Guid, double UtcOffset, const Pmmtalk::FPush& Push) const
{
	const FLiveLinkSubjectKey SubjectKey(Guid, FName(*PmmtalkLiveLink::ToFString(Push.Subject)));
	switch (Push.Kind)
	{
	case Pmmtalk::EPushKind::StaticData:
	{
		FLiveLinkStaticDataStruct StaticData(FLiveLinkBaseStaticData::StaticStruct());
		FLiveLinkBaseStaticData* BaseStatic = StaticData.Cast<FLiveLinkBaseStaticData>();
		BaseStatic->PropertyNames.Reserve(int32(Push.Names.size()));
		for (const std::string& Name : Push.Names)
		{
			BaseStatic->PropertyNames.Add(FName(*PmmtalkLiveLink::ToFString(Name)));
		}
		Target.PushSubjectStaticData_AnyThread(SubjectKey, ULiveLinkBasicRole::StaticClass(), MoveTemp(StaticData));
		break;
	}
	case Pmmtalk::EPushKind::FrameData:
	{
		FLiveLinkFrameDataStruct FrameData(FLiveLinkBaseFrameData::StaticStruct());
		FLiveLinkBaseFrameData* BaseFrame = FrameData.Cast<FLiveLinkBaseFrameData>();
		BaseFrame->PropertyValues.Reserve(int32(Push.Values.size()));
		for (const float Value : Push.Values)
		{
			BaseFrame->PropertyValues.Add(Value);
		}
		// Every frame of a subject on one clock, the sender's (keep-alive, VMC and untimetagged frames
		// continue it): Live Link orders a subject's frames by this time and estimates the clock offset
		// from it (FLiveLinkWorldTime(Time) records the offset to this machine's clock).
		BaseFrame->WorldTime = FLiveLinkWorldTime(Push.SourceUnixSeconds);
		const Pmmtalk::FSceneFrame Scene = Pmmtalk::SceneFrameOfDay(Push.SourceUnixSeconds, UtcOffset, Push.Rate);
		BaseFrame->MetaData.SceneTime = FQualifiedFrameTime(FFrameTime(FFrameNumber(Scene.Frame), Scene.SubFrame),
			FFrameRate(Push.Rate.Numerator, Push.Rate.Denominator));
		Target.PushSubjectFrameData_AnyThread(SubjectKey, MoveTemp(FrameData));
		break;
	}
	case Pmmtalk::EPushKind::RemoveSubject:
		Target.RemoveSubject_AnyThread(SubjectKey);
		break;
	}
}

void FPmmtalkLiveLinkSource::RefreshStatus(double NowSeconds)
{
	uint64 Datagrams = 0;
	uint64 Dropped = 0;
	size_t LiveSubjects = 0;
	std::string Problem;
	{
		FScopeLock ScopeLock(&Lock);
		const Pmmtalk::FReceiverCounters& Counters = Core.Counters();
		Datagrams = Counters.Datagrams;
		Dropped = Counters.Dropped();
		LiveSubjects = Core.NumLiveSubjects(NowSeconds, PmmtalkLiveLinkSourcePrivate::WaitingAfterSeconds);
		Problem = Core.LastProblem();
	}
	const double Elapsed = NowSeconds - RateWindowStartSeconds;
	if (Elapsed >= PmmtalkLiveLinkSourcePrivate::RateWindowSeconds || Datagrams < RateWindowStartDatagrams)
	{
		PacketsPerSecond = Elapsed > 0.0 && Datagrams >= RateWindowStartDatagrams
			? double(Datagrams - RateWindowStartDatagrams) / Elapsed
			: 0.0;
		RateWindowStartSeconds = NowSeconds;
		RateWindowStartDatagrams = Datagrams;
	}

	const FString Where = FString::Printf(TEXT("%s:%d"), *PmmtalkLiveLink::ToFString(Config.BindAddress), Config.Port);
	FString Status;
	switch (ListenState)
	{
	case EListenState::NotStarted:
		Status = TEXT("Not started");
		break;
	case EListenState::Stopped:
		Status = TEXT("Stopped");
		break;
	case EListenState::CannotBind:
		Status = FString::Printf(TEXT("Cannot listen on %s: port in use (or not this machine's address)"), *Where);
		break;
	case EListenState::Listening:
		Status = LiveSubjects > 0
			? FString::Printf(TEXT("Receiving %.0f packets/s, %d subject(s)"), PacketsPerSecond, int32(LiveSubjects))
			: FString::Printf(TEXT("Waiting for packets on %s"), *Where);
		break;
	}
	if (Dropped > 0)
	{
		Status += FString::Printf(TEXT(" | %llu dropped, last: %s"), static_cast<unsigned long long>(Dropped), *PmmtalkLiveLink::ToFString(Problem));
	}
	if (!SettingsProblem.IsEmpty())
	{
		Status += FString::Printf(TEXT(" | settings refused: %s"), *SettingsProblem);
	}
	StatusText = FText::FromString(Status);
}

#undef LOCTEXT_NAMESPACE
