// A fake ILiveLinkClient that does what the engine's client does to a source (ReceiveClient, a settings
// object of the source's class, InitializeSettings, Update every tick, RequestSourceShutdown until true)
// and records every push. It also checks what the engine's client would reject or what would be a bug:
// a push from a source that was shut down, a frame before its static data or with a value count that
// differs from the static names, a role other than Basic, repeated names.
//
// Like the engine's client in several 4.2x-5.x versions, it holds one lock (CollectionAccess) while it
// calls a source's Update and RequestSourceShutdown, and takes the same lock in every Push*_AnyThread:
// a source that pushes from its thread while holding a lock Update needs, or that waits for its thread
// in RequestSourceShutdown while that thread pushes, deadlocks here as it would in the engine. It times
// each RequestSourceShutdown call (the engine's game thread waits for it).
//
// It also models what the engine does with what it is given, where that hid bugs:
// - each subject's frame buffer (FLiveLinkSubject::AddFrameData, 5.3+): frames are applied on the tick,
//   a full buffer (MaxNumberOfFrameToBuffered) drops the frame that arrived first, and a new frame goes
//   after the last one whose source time (WorldTime.GetSourceTime) is not later than its own; Latest
//   mode shows the frame with the latest source time, Engine Time mode the frame at the engine time
//   minus the source's clock offset (arrival minus source time; the engine smooths it, here the latest);
// - "+ Source" in the Live Link window, which writes an empty connection string after AddSource
//   (FLiveLinkSourcesView::OnSourceCreated for a MenuEntry factory);
// - saving a Live Link preset (a copy of each source's settings) and applying one: every source removed
//   (each shut down over the next ticks) and each stored source created again from its factory and its
//   stored connection string, then given a copy of its stored settings, in one tick
//   (ULiveLinkPreset::ApplyToClient, FLiveLinkClient::CreateSource).
#pragma once

#include "CoreMinimal.h"
#include "ILiveLinkClient.h"
#include "ILiveLinkSource.h"
#include "LiveLinkSourceFactory.h"
#include "PmmtalkLiveLinkOptions.h"

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace PmmTest
{
struct FRecordedPush
{
	enum class EKind
	{
		Static,
		Frame,
		Remove
	};
	EKind Kind = EKind::Frame;
	FGuid Source;
	std::string Subject;
	std::vector<std::string> Names;
	std::vector<float> Values;
	double WorldTime = 0.0;
	double WorldOffset = 0.0;
	int32 SceneFrame = 0;
	float SceneSubFrame = 0.0f;
	int32 RateNumerator = 0;
	int32 RateDenominator = 0;
	bool bFromTestThread = false;  // pushed from the thread that made the client (the "game thread")
};

/** A frame in a modelled subject's buffer. */
struct FModelledFrame
{
	std::vector<float> Values;
	double SourceSeconds = 0.0;   // WorldTime.GetSourceTime()
	double ArrivalSeconds = 0.0;  // FPlatformTime::Seconds() when pushed
	uint64 ArrivalIndex = 0;      // pushes to this client counted, in order
};

/** A saved Live Link preset: a copy of each source's settings (the client owns none of these). */
struct FSavedPreset
{
	struct FSource
	{
		FGuid Guid;
		ELiveLinkSourceMode Mode = ELiveLinkSourceMode::EngineTime;
		FLiveLinkSourceBufferManagementSettings BufferSettings;
		FString ConnectionString;
		TSubclassOf<ULiveLinkSourceFactory> Factory;
		bool bPmmtalk = false;  // the settings were UPmmtalkLiveLinkSourceSettings, with these options
		FPmmtalkLiveLinkOptions Options;
	};
	std::vector<FSource> Sources;
};

class FRecordingLiveLinkClient : public ILiveLinkClient
{
public:
	/** Registers itself as the Live Link modular feature (as the engine's client does). */
	FRecordingLiveLinkClient();
	virtual ~FRecordingLiveLinkClient();

	// ILiveLinkClient
	virtual FGuid AddSource(TSharedPtr<ILiveLinkSource> Source) override;
	virtual void RemoveSource(TSharedPtr<ILiveLinkSource> Source) override;
	virtual void RemoveSource(FGuid SourceGuid) override;
	virtual bool HasSourceBeenAdded(TSharedPtr<ILiveLinkSource> Source) const override;
	virtual TArray<FGuid> GetSources(bool bEvenIfPendingKill = false) const override;
	virtual void PushSubjectStaticData_AnyThread(const FLiveLinkSubjectKey& SubjectKey, TSubclassOf<ULiveLinkRole> Role, FLiveLinkStaticDataStruct&& StaticData) override;
	virtual void PushSubjectFrameData_AnyThread(const FLiveLinkSubjectKey& SubjectKey, FLiveLinkFrameDataStruct&& FrameData) override;
	virtual void RemoveSubject_AnyThread(const FLiveLinkSubjectKey& SubjectName) override;

	/**
	 * The engine's tick: Update() on every source, the frames pushed since the last tick into the modelled
	 * subjects, RequestSourceShutdown() once on every removed source until it says yes.
	 */
	void Tick();
	/** Ticks every few milliseconds until Condition holds (true) or TimeoutSeconds pass (false). */
	bool WaitUntil(const std::function<bool()>& Condition, double TimeoutSeconds);

	TSharedPtr<ILiveLinkSource> GetSource(FGuid SourceGuid) const;
	ULiveLinkSourceSettings* GetSourceSettings(FGuid SourceGuid) const;
	/** What the details panel does after an edit: Edit changes the object, then the source is told. */
	void EditSettings(FGuid SourceGuid, const std::function<void(ULiveLinkSourceSettings&)>& Edit);

	/** "+ Source > Factory" in the Live Link window (a MenuEntry factory). */
	FGuid AddSourceFromToolbar(const ULiveLinkSourceFactory& Factory);
	/** Presets > Save As Preset. */
	FSavedPreset SavePreset() const;
	/** Applying a preset: removes every source, creates the preset's; their shutdown happens on Tick. */
	void ApplyPreset(const FSavedPreset& Preset);

	/** A subject's buffered frames, in buffer order (as of the last Tick). */
	std::vector<FModelledFrame> BufferedFrames(const std::string& Subject) const;
	/** The values Live Link shows for Subject in Latest mode (empty: no frame). */
	std::vector<float> LatestValues(const std::string& Subject) const;
	/** The values Live Link shows for Subject in Engine Time mode at EngineSeconds (FPlatformTime). */
	std::vector<float> EngineTimeValues(const std::string& Subject, double EngineSeconds) const;
	/** The longest a RequestSourceShutdown call took, in seconds, and how many calls there were. */
	double LongestShutdownRequestSeconds() const;
	int ShutdownRequests() const;

	std::vector<FRecordedPush> Pushes() const;
	size_t CountFrames(const std::string& Subject) const;
	std::vector<std::string> Violations() const;
	void ClearPushes();

private:
	struct FEntry
	{
		FGuid Guid;
		TSharedPtr<ILiveLinkSource> Source;
		ULiveLinkSourceSettings* Settings = nullptr;
		bool bPendingKill = false;  // removed: asked to shut down on each tick until it says yes
		bool bShutDown = false;
		double ClockOffsetSeconds = 0.0;  // Engine Time: arrival minus source time of its latest frame
	};

	struct FModelledSubject
	{
		FGuid Source;
		std::string Subject;  // lower case
		std::vector<FModelledFrame> Frames;
	};

	/** A push waiting for the tick (the engine applies pushes on the game thread). */
	struct FPendingPush
	{
		FRecordedPush::EKind Kind = FRecordedPush::EKind::Frame;
		FGuid Source;
		std::string Subject;  // lower case
		FModelledFrame Frame;
	};

	void Violation(const std::string& What);
	bool IsLive(FGuid SourceGuid) const;  // Mutex held
	FGuid AddSourceWithSettings(TSharedPtr<ILiveLinkSource> Source, FGuid Guid, const FSavedPreset::FSource* Stored);
	bool RequestShutdown(ILiveLinkSource& Source);
	void ApplyPendingPushes();  // Mutex held
	void AddModelledFrame(FEntry& Entry, FModelledSubject& Subject, FModelledFrame&& Frame);  // Mutex held
	const FModelledSubject* FindModelled(const std::string& Subject) const;  // Mutex held

	const std::thread::id TestThread;
	std::recursive_mutex CollectionAccess;  // the engine client's lock around ticks and pushes
	mutable std::mutex Mutex;               // this recorder's own state
	std::vector<FEntry> Entries;
	std::vector<FRecordedPush> Recorded;
	std::vector<std::string> ViolationList;
	std::vector<std::pair<std::string, std::vector<std::string>>> StaticNames;  // subject (lower case) -> names
	std::vector<FPendingPush> Pending;
	std::vector<FModelledSubject> Modelled;
	uint64 Arrivals = 0;
	double LongestShutdownSeconds = 0.0;
	int ShutdownCalls = 0;
};

std::string ToUtf8(const FString& Text);
std::string Lower(const std::string& Text);
}  // namespace PmmTest
