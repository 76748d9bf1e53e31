// A fake ILiveLinkClient that does what the engine's client does to a source (ReceiveClient, a settings
// object of the source's class, InitializeSettings, Update every tick, RequestSourceShutdown until true)
// and records every push. It also checks what the engine's client would reject or what would be a bug:
// a push from a source that was shut down, a frame before its static data or with a value count that
// differs from the static names, a role other than Basic, repeated names.
//
// Like the engine's client in several 4.2x-5.x versions, it holds one lock (CollectionAccess) while it
// calls a source's Update and RequestSourceShutdown, and takes the same lock in every Push*_AnyThread:
// a source that pushes from its thread while holding a lock Update needs, or that waits for its thread
// in RequestSourceShutdown while that thread pushes, deadlocks here as it would in the engine.
#pragma once

#include "CoreMinimal.h"
#include "ILiveLinkClient.h"
#include "ILiveLinkSource.h"

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

	/** The engine's tick: Update() on every source. */
	void Tick();
	/** Ticks every few milliseconds until Condition holds (true) or TimeoutSeconds pass (false). */
	bool WaitUntil(const std::function<bool()>& Condition, double TimeoutSeconds);

	TSharedPtr<ILiveLinkSource> GetSource(FGuid SourceGuid) const;
	ULiveLinkSourceSettings* GetSourceSettings(FGuid SourceGuid) const;
	/** What the details panel does after an edit: Edit changes the object, then the source is told. */
	void EditSettings(FGuid SourceGuid, const std::function<void(ULiveLinkSourceSettings&)>& Edit);

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
		bool bShutDown = false;
	};

	void Violation(const std::string& What);
	bool IsLive(FGuid SourceGuid) const;  // Mutex held

	const std::thread::id TestThread;
	std::recursive_mutex CollectionAccess;  // the engine client's lock around ticks and pushes
	mutable std::mutex Mutex;               // this recorder's own state
	std::vector<FEntry> Entries;
	std::vector<FRecordedPush> Recorded;
	std::vector<std::string> ViolationList;
	std::vector<std::pair<std::string, std::vector<std::string>>> StaticNames;  // subject (lower case) -> names
};

std::string ToUtf8(const FString& Text);
std::string Lower(const std::string& Text);
}  // namespace PmmTest
