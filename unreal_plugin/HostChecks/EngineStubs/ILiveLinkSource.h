// Host-check stub of ILiveLinkSource.h (LiveLinkInterface). The virtual functions are declared exactly as
// in the engine's header (5.3 to 5.8; docs/reference/unreal-live-link.md section 2): the plugin marks
// each override `override`, so a signature that drifts from these fails to compile.
#pragma once

#include "CoreMinimal.h"
#include "LiveLinkSourceSettings.h"
#include "LiveLinkTypes.h"
#include "Misc/Guid.h"
#include "UObject/ObjectMacros.h"

#include "ILiveLinkSource.generated.h"

class ILiveLinkClient;
struct FPropertyChangedEvent;

class ILiveLinkSource
{
public:
	virtual ~ILiveLinkSource() {}

	virtual void ReceiveClient(ILiveLinkClient* InClient, FGuid InSourceGuid) = 0;
	virtual void InitializeSettings(ULiveLinkSourceSettings* Settings) {}
	virtual void Update() {}
	virtual bool CanBeDisplayedInUI() const { return true; }
	virtual bool IsSourceStillValid() const = 0;
	virtual bool RequestSourceShutdown() = 0;
	virtual FText GetSourceType() const = 0;
	virtual FText GetSourceMachineName() const = 0;
	virtual FText GetSourceStatus() const = 0;
	virtual TSubclassOf<ULiveLinkSourceSettings> GetSettingsClass() const { return ULiveLinkSourceSettings::StaticClass(); }
	virtual void OnSettingsChanged(ULiveLinkSourceSettings* Settings, const FPropertyChangedEvent& PropertyChangedEvent) {}
};

USTRUCT(BlueprintType)
struct FLiveLinkSourceHandle
{
	GENERATED_USTRUCT_BODY()

	FLiveLinkSourceHandle() = default;
	virtual ~FLiveLinkSourceHandle() = default;

	void SetSourcePointer(TSharedPtr<ILiveLinkSource> InSourcePointer) { SourcePointer = InSourcePointer; }

	TSharedPtr<ILiveLinkSource> SourcePointer;
};
