#include "RecordingLiveLinkClient.h"

#include "Features/IModularFeatures.h"
#include "PmmtalkLiveLinkSourceSettings.h"
#include "Roles/LiveLinkBasicRole.h"
#include "UObject/Object.h"

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
	std::lock_guard<std::recursive_mutex> Access(CollectionAccess);
	FEntry Entry;
	Entry.Guid = FGuid::NewGuid();
	Entry.Source = Source;
	{
		std::lock_guard<std::mutex> Guard(Mutex);
		Entries.push_back(Entry);
	}
	// The engine's order: the client first, then a settings object of the source's class.
	Source->ReceiveClient(this, Entry.Guid);
	ULiveLinkSourceSettings* Settings = NewObject<ULiveLinkSourceSettings>(nullptr, Source->GetSettingsClass().Get());
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
		bool bDone = false;
		{
			std::lock_guard<std::recursive_mutex> Access(CollectionAccess);
			bDone = Source->RequestSourceShutdown();
		}
		if (bDone)
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

bool FRecordingLiveLinkClient::HasSourceBeenAdded(TSharedPtr<ILiveLinkSource> Source) const
{
	std::lock_guard<std::mutex> Guard(Mutex);
	for (const FEntry& Entry : Entries)
	{
		if (Entry.Source == Source && !Entry.bShutDown)
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
		if (!Entry.bShutDown)
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
	Recorded.push_back(std::move(Push));
}

void FRecordingLiveLinkClient::Tick()
{
	std::lock_guard<std::recursive_mutex> Access(CollectionAccess);
	std::vector<TSharedPtr<ILiveLinkSource>> Live;
	{
		std::lock_guard<std::mutex> Guard(Mutex);
		for (const FEntry& Entry : Entries)
		{
			if (!Entry.bShutDown)
			{
				Live.push_back(Entry.Source);
			}
		}
	}
	for (const TSharedPtr<ILiveLinkSource>& Source : Live)
	{
		Source->Update();
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
