// Host-check stub of ILiveLinkClient.h (LiveLinkInterface): the functions the plugin calls, declared as
// in the engine's header. The host tests implement it with a recording fake client.
#pragma once

#include "CoreMinimal.h"
#include "Features/IModularFeature.h"
#include "LiveLinkRole.h"
#include "LiveLinkTypes.h"
#include "Misc/Guid.h"
#include "Templates/SubclassOf.h"

class ILiveLinkSource;

class ILiveLinkClient : public IModularFeature
{
public:
	virtual ~ILiveLinkClient() {}

	static FName ModularFeatureName;

	virtual FGuid AddSource(TSharedPtr<ILiveLinkSource> Source) = 0;
	virtual void RemoveSource(TSharedPtr<ILiveLinkSource> Source) = 0;
	virtual void RemoveSource(FGuid SourceGuid) = 0;
	virtual bool HasSourceBeenAdded(TSharedPtr<ILiveLinkSource> Source) const = 0;
	virtual TArray<FGuid> GetSources(bool bEvenIfPendingKill = false) const = 0;
	virtual void PushSubjectStaticData_AnyThread(const FLiveLinkSubjectKey& SubjectKey, TSubclassOf<ULiveLinkRole> Role, FLiveLinkStaticDataStruct&& StaticData) = 0;
	virtual void PushSubjectFrameData_AnyThread(const FLiveLinkSubjectKey& SubjectKey, FLiveLinkFrameDataStruct&& FrameData) = 0;
	virtual void RemoveSubject_AnyThread(const FLiveLinkSubjectKey& SubjectName) = 0;
};
