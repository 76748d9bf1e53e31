// Host-check stub of LiveLinkSourceSettings.h (LiveLinkInterface).
#pragma once

#include "CoreMinimal.h"
#include "Templates/SubclassOf.h"
#include "UObject/Object.h"

#include "LiveLinkSourceSettings.generated.h"

class ULiveLinkSourceFactory;

UENUM()
enum class ELiveLinkSourceMode : uint8
{
	Latest,
	EngineTime,
	Timecode,
};

USTRUCT()
struct FLiveLinkSourceBufferManagementSettings
{
	GENERATED_BODY()

	int32 MaxNumberOfFrameToBuffered = 10;
};

UCLASS()
class ULiveLinkSourceSettings : public UObject
{
	GENERATED_BODY()

public:
	ELiveLinkSourceMode Mode = ELiveLinkSourceMode::EngineTime;
	FLiveLinkSourceBufferManagementSettings BufferSettings;
	FString ConnectionString;
	TSubclassOf<ULiveLinkSourceFactory> Factory;
};
