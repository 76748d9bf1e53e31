#include "PmmtalkLiveLinkSource.h"

#include "Common/UdpSocketBuilder.h"
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

FPmmtalkLiveLinkSource::FPmmtalkLiveLinkSource(const Pmmtalk::FSourceConfig& InConfig)
	: Config(InConfig)
	, Core(Pmmtalk::FReceiverSettings::FromConfig(InConfig))
{
}

FPmmtalkLiveLinkSource::~FPmmtalkLiveLinkSource()
{
	bStopping = true;
	StopReceiver();
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
	StartReceiver();
	RateWindowStartSeconds = FPlatformTime::Seconds();
	RefreshStatus(RateWindowStartSeconds);
}

void FPmmtalkLiveLinkSource::InitializeSettings(ULiveLinkSourceSettings* Settings)
{
	UPmmtalkLiveLinkSourceSettings* PmmtalkSettings = Cast<UPmmtalkLiveLinkSourceSettings>(Settings);
	if (PmmtalkSettings == nullptr)
	{
		return;
	}
	PmmtalkSettings->Options = PmmtalkLiveLink::ToOptions(Config);
	PmmtalkSettings->ConnectionString = GetConnectionString();
	if (PmmtalkSettings->Factory.Get() == nullptr)
	{
		// A source made from Blueprint has no factory yet; a preset saved from it needs one.
		PmmtalkSettings->Factory = UPmmtalkLiveLinkSourceFactory::StaticClass();
	}
}

void FPmmtalkLiveLinkSource::Update()
{
	const double Now = FPlatformTime::Seconds();
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
	if (DatagramsInFlight > 0)
	{
		// The receiver thread may be waiting for the client's lock, which the client may hold while it
		// asks us: answer "not yet" and let the client ask again next tick.
		return false;
	}
	// From here no datagram touches the client (the flag is set and none is in flight), so joining the
	// receiver thread takes at most its wait time.
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
	PmmtalkSettings->ConnectionString = GetConnectionString();
	RefreshStatus(FPlatformTime::Seconds());
}

FString FPmmtalkLiveLinkSource::GetConnectionString() const
{
	return PmmtalkLiveLink::ToFString(Pmmtalk::ToConnectionString(Config));
}

void FPmmtalkLiveLinkSource::StartReceiver()
{
	check(Socket == nullptr && !Receiver.IsValid());
	if (bStopping)
	{
		return;
	}
	FIPv4Address Address;
	if (!FIPv4Address::Parse(PmmtalkLiveLink::ToFString(Config.BindAddress), Address))
	{
		ListenState = EListenState::CannotBind;
		return;
	}
	// Not AsReusable(): two programs sharing the port would each get an unpredictable share of the
	// datagrams. A taken port fails here and the status says so.
	Socket = FUdpSocketBuilder(TEXT("PmmtalkLiveLinkSocket"))
		.AsNonBlocking()
		.BoundToAddress(Address)
		.BoundToPort(Config.Port)
		.WithReceiveBufferSize(PmmtalkLiveLinkSourcePrivate::ReceiveBufferBytes)
		.Build();
	if (Socket == nullptr)
	{
		ListenState = EListenState::CannotBind;
		UE_LOG(LogPmmtalkLiveLink, Warning, TEXT("pmmtalk: cannot listen on %s:%d (port in use, or not this machine's address)"),
			*PmmtalkLiveLink::ToFString(Config.BindAddress), Config.Port);
		return;
	}
	Receiver = MakeUnique<FUdpSocketReceiver>(Socket,
		FTimespan::FromMilliseconds(PmmtalkLiveLinkSourcePrivate::ReceiveWaitMilliseconds), TEXT("PmmtalkLiveLinkReceiver"));
	Receiver->OnDataReceived().BindRaw(this, &FPmmtalkLiveLinkSource::HandleDatagram);
	Receiver->Start();
	ListenState = EListenState::Listening;
	UE_LOG(LogPmmtalkLiveLink, Log, TEXT("pmmtalk: listening on %s:%d"), *PmmtalkLiveLink::ToFString(Config.BindAddress), Config.Port);
}

void FPmmtalkLiveLinkSource::StopReceiver()
{
	// Deleting the receiver stops its thread and waits for it; the socket is closed after that.
	Receiver.Reset();
	if (Socket != nullptr)
	{
		Socket->Close();
		ISocketSubsystem::Get(PLATFORM_SOCKETSUBSYSTEM)->DestroySocket(Socket);
		Socket = nullptr;
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
		StartReceiver();
	}
}

void FPmmtalkLiveLinkSource::HandleDatagram(const FArrayReaderPtr& Datagram, const FIPv4Endpoint& /*Sender*/)
{
	// Counted before the stop flag is read (and shutdown sets the flag before it reads the count), so
	// shutdown either sees this datagram in flight or this datagram sees the flag.
	++DatagramsInFlight;
	if (!bStopping && Datagram.IsValid())
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
	--DatagramsInFlight;
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
		// World time from the capture time when the sender gave one (Live Link keeps the clock offset).
		BaseFrame->WorldTime = Push.bHasSenderTime ? FLiveLinkWorldTime(Push.SenderUnixSeconds) : FLiveLinkWorldTime();
		const double FrameUnixSeconds = Push.bHasSenderTime ? Push.SenderUnixSeconds : PmmtalkLiveLinkSourcePrivate::NowUnixSeconds();
		const Pmmtalk::FSceneFrame Scene = Pmmtalk::SceneFrameOfDay(FrameUnixSeconds, UtcOffset, Push.Rate);
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
