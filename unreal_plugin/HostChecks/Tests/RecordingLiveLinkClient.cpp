#include "RecordingLiveLinkClient.h"

#include "Features/IModularFeatures.h"
#include "HAL/PlatformTime.h"
#include "PmmtalkLiveLinkSourceFactory.h"
#include "PmmtalkLiveLinkSourceSettings.h"
#include "Roles/LiveLinkBasicRole.h"
#include "UObject/Object.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace PmmTest
{
std::string ToUtf8(const FString& Text)
{
	return std::string(TCHAR_TO_UTF8(*Text));
}

std::string Lower(const std::string& Text)
{
	std::string Out = Text;
	for (char& Character : Out)
	{
		Character = (Character >= 'A' && Character <= 'Z') ? char(Character - 'A' + 'a') : Character;
	}
	return Out;
}

FRecordingLiveLinkClient::FRecordingLiveLinkClient()
	: TestThread(std::this_thread::get_id())
{
	PmmStub::RegisterClass<ULiveLinkSourceSettings>();
	PmmStub::RegisterClass<UPmmtalkLiveLinkSourceSettings>();
	IModularFeatures::Get().RegisterModularFeature(ILiveLinkClient::ModularFeatureName, this);
}

FRecordingLiveLinkClient::~FRecordingLiveLinkClient()
{
	IModularFeatures::Get().UnregisterModularFeature(ILiveLinkClient::ModularFeatureName, this);
	for (const FGuid& Guid : GetSources())
	{
		RemoveSource(Guid);
	}
	for (FEntry& Entry : Entries)
	{
		delete Entry.Settings;
	}
}

FGuid FRecordingLiveLinkClient::AddSource(TSharedPtr<ILiveLinkSource> Source)
{
	return AddSourceWithSettings(Source, FGuid::NewGuid(), nullptr);
}

FGuid FRecordingLiveLinkClient::AddSourceWithSettings(TSharedPtr<ILiveLinkSource> Source, FGuid Guid, const FSavedPreset::FSource* Stored)
{
	std::lock_guard<std::recursive_mutex> Access(CollectionAccess);
	FEntry Entry;
	Entry.Guid = Guid;
	Entry.Source = Source;
	{
		std::lock_guard<std::mutex> Guard(Mutex);
		Entries.push_back(Entry);
	}
	// The engine's order: the client first, then a settings object of the source's class (from a preset:
	// a copy of the stored one, which DuplicateObject makes field by field).
	Source->ReceiveClient(this, Entry.Guid);
	ULiveLinkSourceSettings* Settings = NewObject<ULiveLinkSourceSettings>(nullptr, Source->GetSettingsClass().Get());
	if (Stored != nullptr)
	{
		Settings->Mode = Stored->Mode;
		Settings->BufferSettings = Stored->BufferSettings;
		Settings->ConnectionString = Stored->ConnectionString;
		Settings->Factory = Stored->Factory;
		UPmmtalkLiveLinkSourceSettings* Pmmtalk = Cast<UPmmtalkLiveLinkSourceSettings>(Settings);
		if (Pmmtalk != nullptr && Stored->bPmmtalk)
		{
			Pmmtalk->Options = Stored->Options;
		}
	}
	{
		std::lock_guard<std::mutex> Guard(Mutex);
		for (FEntry& Existing : Entries)
		{
			if (Existing.Guid == Entry.Guid)
			{
				Existing.Settings = Settings;
			}
		}
	}
	Source->InitializeSettings(Settings);
	return Entry.Guid;
}

void FRecordingLiveLinkClient::RemoveSource(TSharedPtr<ILiveLinkSource> Source)
{
	FGuid Guid;
	{
		std::lock_guard<std::mutex> Guard(Mutex);
		for (const FEntry& Entry : Entries)
		{
			if (Entry.Source == Source && !Entry.bShutDown)
			{
				Guid = Entry.Guid;
			}
		}
	}
	if (Guid.IsValid())
	{
		RemoveSource(Guid);
	}
}

void FRecordingLiveLinkClient::RemoveSource(FGuid SourceGuid)
{
	TSharedPtr<ILiveLinkSource> Source = GetSource(SourceGuid);
	if (!Source.IsValid())
	{
		return;
	}
	// The engine asks during its tick, holding its lock, and again every tick until the source says yes.
	int Attempts = 0;
	while (true)
	{
		if (RequestShutdown(*Source))
		{
			break;
		}
		if (++Attempts > 5000)
		{
			Violation("RequestSourceShutdown never returned true");
			break;
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	}
	{
		std::lock_guard<std::mutex> Guard(Mutex);
		for (FEntry& Entry : Entries)
		{
			if (Entry.Guid == SourceGuid)
			{
				Entry.bShutDown = true;
				Entry.Source.Reset();  // the engine drops its reference
			}
		}
	}
	Source.Reset();  // the last reference, unless the test holds one: the source is destroyed here
}

bool FRecordingLiveLinkClient::RequestShutdown(ILiveLinkSource& Source)
{
	std::lock_guard<std::recursive_mutex> Access(CollectionAccess);
	const auto Started = std::chrono::steady_clock::now();
	const bool bDone = Source.RequestSourceShutdown();
	const double Took = std::chrono::duration<double>(std::chrono::steady_clock::now() - Started).count();
	std::lock_guard<std::mutex> Guard(Mutex);
	LongestShutdownSeconds = std::max(LongestShutdownSeconds, Took);
	++ShutdownCalls;
	return bDone;
}

bool FRecordingLiveLinkClient::HasSourceBeenAdded(TSharedPtr<ILiveLinkSource> Source) const
{
	std::lock_guard<std::mutex> Guard(Mutex);
	for (const FEntry& Entry : Entries)
	{
		if (Entry.Source == Source && !Entry.bShutDown && !Entry.bPendingKill)
		{
			return true;
		}
	}
	return false;
}

TArray<FGuid> FRecordingLiveLinkClient::GetSources(bool /*bEvenIfPendingKill*/) const
{
	std::lock_guard<std::mutex> Guard(Mutex);
	TArray<FGuid> Guids;
	for (const FEntry& Entry : Entries)
	{
		if (!Entry.bShutDown && !Entry.bPendingKill)
		{
			Guids.Add(Entry.Guid);
		}
	}
	return Guids;
}

bool FRecordingLiveLinkClient::IsLive(FGuid SourceGuid) const
{
	for (const FEntry& Entry : Entries)
	{
		if (Entry.Guid == SourceGuid)
		{
			return !Entry.bShutDown;
		}
	}
	return false;
}

void FRecordingLiveLinkClient::PushSubjectStaticData_AnyThread(const FLiveLinkSubjectKey& SubjectKey, TSubclassOf<ULiveLinkRole> Role,
	FLiveLinkStaticDataStruct&& StaticData)
{
	FRecordedPush Push;
	Push.Kind = FRecordedPush::EKind::Static;
	Push.Source = SubjectKey.Source;
	Push.Subject = ToUtf8(SubjectKey.SubjectName.Name.ToString());
	Push.bFromTestThread = std::this_thread::get_id() == TestThread;
	std::lock_guard<std::recursive_mutex> Access(CollectionAccess);
	const FLiveLinkBaseStaticData* Data = StaticData.Cast<FLiveLinkBaseStaticData>();
	std::vector<std::string> Lowered;
	if (Data != nullptr)
	{
		for (const FName& Name : Data->PropertyNames)
		{
			Push.Names.push_back(ToUtf8(Name.ToString()));
			Lowered.push_back(Lower(Push.Names.back()));
		}
	}
	std::lock_guard<std::mutex> Guard(Mutex);
	if (!IsLive(SubjectKey.Source))
	{
		ViolationList.push_back("static data pushed by a source that is not live (shut down or unknown): " + Push.Subject);
	}
	if (Role.Get() != ULiveLinkBasicRole::StaticClass())
	{
		ViolationList.push_back("static data of a role other than Basic for " + Push.Subject);
	}
	if (Data == nullptr || SubjectKey.SubjectName.Name.IsNone())
	{
		ViolationList.push_back("static data without a struct or a subject name");
	}
	for (size_t Index = 0; Index < Lowered.size(); ++Index)
	{
		for (size_t Other = 0; Other < Index; ++Other)
		{
			if (Lowered[Index] == Lowered[Other])
			{
				ViolationList.push_back("static data for " + Push.Subject + " repeats " + Lowered[Index]);
			}
		}
	}
	bool bKnown = false;
	for (auto& Entry : StaticNames)
	{
		if (Entry.first == Lower(Push.Subject))
		{
			Entry.second = Push.Names;
			bKnown = true;
		}
	}
	if (!bKnown)
	{
		StaticNames.emplace_back(Lower(Push.Subject), Push.Names);
	}
	FPendingPush Applied;
	Applied.Kind = FRecordedPush::EKind::Static;
	Applied.Source = Push.Source;
	Applied.Subject = Lower(Push.Subject);
	Pending.push_back(std::move(Applied));
	Recorded.push_back(std::move(Push));
}

void FRecordingLiveLinkClient::PushSubjectFrameData_AnyThread(const FLiveLinkSubjectKey& SubjectKey, FLiveLinkFrameDataStruct&& FrameData)
{
	FRecordedPush Push;
	Push.Kind = FRecordedPush::EKind::Frame;
	Push.Source = SubjectKey.Source;
	Push.Subject = ToUtf8(SubjectKey.SubjectName.Name.ToString());
	Push.bFromTestThread = std::this_thread::get_id() == TestThread;
	std::lock_guard<std::recursive_mutex> Access(CollectionAccess);
	const FLiveLinkBaseFrameData* Data = FrameData.Cast<FLiveLinkBaseFrameData>();
	if (Data != nullptr)
	{
		Push.Values.assign(Data->PropertyValues.begin(), Data->PropertyValues.end());
		Push.WorldTime = Data->WorldTime.Time;
		Push.WorldOffset = Data->WorldTime.Offset;
		Push.SceneFrame = Data->MetaData.SceneTime.Time.GetFrame().Value;
		Push.SceneSubFrame = Data->MetaData.SceneTime.Time.GetSubFrame();
		Push.RateNumerator = Data->MetaData.SceneTime.Rate.Numerator;
		Push.RateDenominator = Data->MetaData.SceneTime.Rate.Denominator;
	}
	std::lock_guard<std::mutex> Guard(Mutex);
	if (!IsLive(SubjectKey.Source))
	{
		ViolationList.push_back("frame pushed by a source that is not live (shut down or unknown): " + Push.Subject);
	}
	const std::vector<std::string>* Names = nullptr;
	for (const auto& Entry : StaticNames)
	{
		if (Entry.first == Lower(Push.Subject))
		{
			Names = &Entry.second;
		}
	}
	if (Names == nullptr)
	{
		ViolationList.push_back("frame before static data for " + Push.Subject);
	}
	else if (Names->size() != Push.Values.size())
	{
		ViolationList.push_back("frame for " + Push.Subject + " with " + std::to_string(Push.Values.size())
			+ " values, static data has " + std::to_string(Names->size()) + " names");
	}
	for (const float Value : Push.Values)
	{
		if (!std::isfinite(Value))
		{
			ViolationList.push_back("a non-finite value for " + Push.Subject);
		}
	}
	FPendingPush Applied;
	Applied.Source = Push.Source;
	Applied.Subject = Lower(Push.Subject);
	Applied.Frame.Values = Push.Values;
	Applied.Frame.SourceSeconds = Push.WorldTime;
	Applied.Frame.ArrivalSeconds = FPlatformTime::Seconds();
	Applied.Frame.ArrivalIndex = ++Arrivals;
	Pending.push_back(std::move(Applied));
	Recorded.push_back(std::move(Push));
}

void FRecordingLiveLinkClient::RemoveSubject_AnyThread(const FLiveLinkSubjectKey& SubjectName)
{
	FRecordedPush Push;
	Push.Kind = FRecordedPush::EKind::Remove;
	Push.Source = SubjectName.Source;
	Push.Subject = ToUtf8(SubjectName.SubjectName.Name.ToString());
	std::lock_guard<std::recursive_mutex> Access(CollectionAccess);
	std::lock_guard<std::mutex> Guard(Mutex);
	if (!IsLive(SubjectName.Source))
	{
		ViolationList.push_back("subject removed by a source that is not live: " + Push.Subject);
	}
	for (size_t Index = 0; Index < StaticNames.size(); ++Index)
	{
		if (StaticNames[Index].first == Lower(Push.Subject))
		{
			StaticNames.erase(StaticNames.begin() + std::ptrdiff_t(Index));
			break;
		}
	}
	FPendingPush Applied;
	Applied.Kind = FRecordedPush::EKind::Remove;
	Applied.Source = Push.Source;
	Applied.Subject = Lower(Push.Subject);
	Pending.push_back(std::move(Applied));
	Recorded.push_back(std::move(Push));
}

void FRecordingLiveLinkClient::Tick()
{
	std::lock_guard<std::recursive_mutex> Access(CollectionAccess);
	std::vector<TSharedPtr<ILiveLinkSource>> Live;
	std::vector<std::pair<FGuid, TSharedPtr<ILiveLinkSource>>> Removed;
	{
		std::lock_guard<std::mutex> Guard(Mutex);
		for (const FEntry& Entry : Entries)
		{
			if (!Entry.bShutDown && !Entry.bPendingKill)
			{
				Live.push_back(Entry.Source);
			}
			if (!Entry.bShutDown && Entry.bPendingKill)
			{
				Removed.emplace_back(Entry.Guid, Entry.Source);
			}
		}
	}
	for (const TSharedPtr<ILiveLinkSource>& Source : Live)
	{
		Source->Update();
	}
	{
		std::lock_guard<std::mutex> Guard(Mutex);
		ApplyPendingPushes();
	}
	for (std::pair<FGuid, TSharedPtr<ILiveLinkSource>>& Entry : Removed)
	{
		if (!RequestShutdown(*Entry.second))
		{
			continue;  // asked again next tick
		}
		std::lock_guard<std::mutex> Guard(Mutex);
		for (FEntry& Existing : Entries)
		{
			if (Existing.Guid == Entry.first)
			{
				Existing.bShutDown = true;
				Existing.Source.Reset();
			}
		}
	}
	Removed.clear();  // the last references: sources that said yes are destroyed here
}

void FRecordingLiveLinkClient::ApplyPendingPushes()
{
	for (FPendingPush& Push : Pending)
	{
		FEntry* Entry = nullptr;
		for (FEntry& Candidate : Entries)
		{
			Entry = Candidate.Guid == Push.Source && !Candidate.bShutDown && !Candidate.bPendingKill ? &Candidate : Entry;
		}
		if (Entry == nullptr)
		{
			continue;  // the engine drops what a removed source pushed
		}
		FModelledSubject* Subject = nullptr;
		for (FModelledSubject& Candidate : Modelled)
		{
			Subject = Candidate.Source == Push.Source && Candidate.Subject == Push.Subject ? &Candidate : Subject;
		}
		switch (Push.Kind)
		{
		case FRecordedPush::EKind::Static:
			if (Subject == nullptr)
			{
				Modelled.push_back(FModelledSubject{Push.Source, Push.Subject, {}});
			}
			else
			{
				Subject->Frames.clear();  // new static data clears the buffered frames
			}
			break;
		case FRecordedPush::EKind::Frame:
			if (Subject != nullptr)
			{
				AddModelledFrame(*Entry, *Subject, std::move(Push.Frame));
			}
			break;
		case FRecordedPush::EKind::Remove:
			for (size_t Index = 0; Index < Modelled.size(); ++Index)
			{
				if (&Modelled[Index] == Subject)
				{
					Modelled.erase(Modelled.begin() + std::ptrdiff_t(Index));
					break;
				}
			}
			break;
		}
	}
	Pending.clear();
}

void FRecordingLiveLinkClient::AddModelledFrame(FEntry& Entry, FModelledSubject& Subject, FModelledFrame&& Frame)
{
	const int32 Configured = Entry.Settings != nullptr ? Entry.Settings->BufferSettings.MaxNumberOfFrameToBuffered : 10;
	if (Subject.Frames.size() >= size_t(std::max(Configured, 1)))
	{
		// The frame that arrived first goes (FLiveLinkSubject::RemoveFrames), wherever it sits.
		size_t First = 0;
		for (size_t Index = 1; Index < Subject.Frames.size(); ++Index)
		{
			First = Subject.Frames[Index].ArrivalIndex < Subject.Frames[First].ArrivalIndex ? Index : First;
		}
		Subject.Frames.erase(Subject.Frames.begin() + std::ptrdiff_t(First));
	}
	// FindNewFrame_WorldTimeInternal, in Latest and Engine Time mode alike: after the last frame whose
	// source time is not later.
	size_t Index = Subject.Frames.size();
	while (Index > 0 && Subject.Frames[Index - 1].SourceSeconds > Frame.SourceSeconds)
	{
		--Index;
	}
	Entry.ClockOffsetSeconds = Frame.ArrivalSeconds - Frame.SourceSeconds;
	Subject.Frames.insert(Subject.Frames.begin() + std::ptrdiff_t(Index), std::move(Frame));
}

const FRecordingLiveLinkClient::FModelledSubject* FRecordingLiveLinkClient::FindModelled(const std::string& Subject) const
{
	for (const FModelledSubject& Candidate : Modelled)
	{
		if (Candidate.Subject == Lower(Subject))
		{
			return &Candidate;
		}
	}
	return nullptr;
}

std::vector<FModelledFrame> FRecordingLiveLinkClient::BufferedFrames(const std::string& Subject) const
{
	std::lock_guard<std::mutex> Guard(Mutex);
	const FModelledSubject* Found = FindModelled(Subject);
	return Found != nullptr ? Found->Frames : std::vector<FModelledFrame>();
}

std::vector<float> FRecordingLiveLinkClient::LatestValues(const std::string& Subject) const
{
	std::lock_guard<std::mutex> Guard(Mutex);
	const FModelledSubject* Found = FindModelled(Subject);
	return Found != nullptr && !Found->Frames.empty() ? Found->Frames.back().Values : std::vector<float>();
}

std::vector<float> FRecordingLiveLinkClient::EngineTimeValues(const std::string& Subject, double EngineSeconds) const
{
	std::lock_guard<std::mutex> Guard(Mutex);
	const FModelledSubject* Found = FindModelled(Subject);
	if (Found == nullptr || Found->Frames.empty())
	{
		return std::vector<float>();
	}
	double ClockOffset = 0.0;
	for (const FEntry& Entry : Entries)
	{
		ClockOffset = Entry.Guid == Found->Source ? Entry.ClockOffsetSeconds : ClockOffset;
	}
	// FLiveLinkSubject::GetFrameAtWorldTime_Closest at the engine time less the clock offset: the newest
	// frame not after the read time when it is the newest of all, else the one after it (as the engine's
	// blend weight picks), else the oldest.
	const double ReadSeconds = EngineSeconds - ClockOffset;
	const std::vector<FModelledFrame>& Frames = Found->Frames;
	for (size_t Index = Frames.size(); Index-- > 0;)
	{
		if (Frames[Index].SourceSeconds <= ReadSeconds)
		{
			return Frames[Index + 1 < Frames.size() ? Index + 1 : Index].Values;
		}
	}
	return Frames.front().Values;
}

double FRecordingLiveLinkClient::LongestShutdownRequestSeconds() const
{
	std::lock_guard<std::mutex> Guard(Mutex);
	return LongestShutdownSeconds;
}

int FRecordingLiveLinkClient::ShutdownRequests() const
{
	std::lock_guard<std::mutex> Guard(Mutex);
	return ShutdownCalls;
}

FGuid FRecordingLiveLinkClient::AddSourceFromToolbar(const ULiveLinkSourceFactory& Factory)
{
	// FLiveLinkSourcesView::ExecuteCreateSource and OnSourceCreated.
	TSharedPtr<ILiveLinkSource> Source = Factory.CreateSource(FString());
	if (!Source.IsValid())
	{
		return FGuid();
	}
	const FGuid Guid = AddSource(Source);
	if (ULiveLinkSourceSettings* Settings = GetSourceSettings(Guid))
	{
		Settings->ConnectionString = FString();
		Settings->Factory = UPmmtalkLiveLinkSourceFactory::StaticClass();
	}
	return Guid;
}

FSavedPreset FRecordingLiveLinkClient::SavePreset() const
{
	FSavedPreset Preset;
	std::lock_guard<std::mutex> Guard(Mutex);
	for (const FEntry& Entry : Entries)
	{
		if (Entry.bShutDown || Entry.bPendingKill || Entry.Settings == nullptr)
		{
			continue;
		}
		FSavedPreset::FSource Stored;
		Stored.Guid = Entry.Guid;
		Stored.Mode = Entry.Settings->Mode;
		Stored.BufferSettings = Entry.Settings->BufferSettings;
		Stored.ConnectionString = Entry.Settings->ConnectionString;
		Stored.Factory = Entry.Settings->Factory;
		if (const UPmmtalkLiveLinkSourceSettings* Pmmtalk = Cast<UPmmtalkLiveLinkSourceSettings>(Entry.Settings))
		{
			Stored.bPmmtalk = true;
			Stored.Options = Pmmtalk->Options;
		}
		Preset.Sources.push_back(Stored);
	}
	return Preset;
}

void FRecordingLiveLinkClient::ApplyPreset(const FSavedPreset& Preset)
{
	{
		std::lock_guard<std::mutex> Guard(Mutex);
		for (FEntry& Entry : Entries)
		{
			Entry.bPendingKill = true;  // FLiveLinkClient::RemoveAllSources
		}
	}
	for (const FSavedPreset::FSource& Stored : Preset.Sources)
	{
		// FLiveLinkClient::CreateSource(preset): the factory's default object makes the source from the
		// stored connection string (a new guid here: the removed source with the preset's guid is still
		// shutting down).
		if (Stored.Factory.Get() != UPmmtalkLiveLinkSourceFactory::StaticClass())
		{
			Violation("a preset source without the pmmtalk factory");
			continue;
		}
		TSharedPtr<ILiveLinkSource> Source = GetDefault<UPmmtalkLiveLinkSourceFactory>()->CreateSource(Stored.ConnectionString);
		if (Source.IsValid())
		{
			AddSourceWithSettings(Source, FGuid::NewGuid(), &Stored);
		}
	}
}

bool FRecordingLiveLinkClient::WaitUntil(const std::function<bool()>& Condition, double TimeoutSeconds)
{
	const auto Deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(TimeoutSeconds);
	while (!Condition())
	{
		if (std::chrono::steady_clock::now() > Deadline)
		{
			return false;
		}
		Tick();
		std::this_thread::sleep_for(std::chrono::milliseconds(2));
	}
	return true;
}

TSharedPtr<ILiveLinkSource> FRecordingLiveLinkClient::GetSource(FGuid SourceGuid) const
{
	std::lock_guard<std::mutex> Guard(Mutex);
	for (const FEntry& Entry : Entries)
	{
		if (Entry.Guid == SourceGuid && !Entry.bShutDown)
		{
			return Entry.Source;
		}
	}
	return TSharedPtr<ILiveLinkSource>();
}

ULiveLinkSourceSettings* FRecordingLiveLinkClient::GetSourceSettings(FGuid SourceGuid) const
{
	std::lock_guard<std::mutex> Guard(Mutex);
	for (const FEntry& Entry : Entries)
	{
		if (Entry.Guid == SourceGuid)
		{
			return Entry.Settings;
		}
	}
	return nullptr;
}

void FRecordingLiveLinkClient::EditSettings(FGuid SourceGuid, const std::function<void(ULiveLinkSourceSettings&)>& Edit)
{
	ULiveLinkSourceSettings* Settings = GetSourceSettings(SourceGuid);
	TSharedPtr<ILiveLinkSource> Source = GetSource(SourceGuid);
	if (Settings == nullptr || !Source.IsValid())
	{
		Violation("EditSettings on a source that is not live");
		return;
	}
	Edit(*Settings);
	FPropertyChangedEvent Event;
	Event.MemberPropertyName = FName(TEXT("Options"));
	Source->OnSettingsChanged(Settings, Event);
}

std::vector<FRecordedPush> FRecordingLiveLinkClient::Pushes() const
{
	std::lock_guard<std::mutex> Guard(Mutex);
	return Recorded;
}

size_t FRecordingLiveLinkClient::CountFrames(const std::string& Subject) const
{
	std::lock_guard<std::mutex> Guard(Mutex);
	size_t Count = 0;
	for (const FRecordedPush& Push : Recorded)
	{
		Count += (Push.Kind == FRecordedPush::EKind::Frame && Lower(Push.Subject) == Lower(Subject)) ? 1 : 0;
	}
	return Count;
}

std::vector<std::string> FRecordingLiveLinkClient::Violations() const
{
	std::lock_guard<std::mutex> Guard(Mutex);
	return ViolationList;
}

void FRecordingLiveLinkClient::ClearPushes()
{
	std::lock_guard<std::mutex> Guard(Mutex);
	Recorded.clear();
}

void FRecordingLiveLinkClient::Violation(const std::string& What)
{
	std::lock_guard<std::mutex> Guard(Mutex);
	ViolationList.push_back(What);
}
}  // namespace PmmTest
