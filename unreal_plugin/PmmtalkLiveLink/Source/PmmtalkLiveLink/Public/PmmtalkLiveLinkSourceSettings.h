// The settings object Live Link creates for each pmmtalk source: its details panel in the Live Link
// window, and what a saved Live Link preset stores (with the connection string).
#pragma once

#include "CoreMinimal.h"
#include "LiveLinkSourceSettings.h"
#include "PmmtalkLiveLinkOptions.h"

#include "PmmtalkLiveLinkSourceSettings.generated.h"

UCLASS()
class PMMTALKLIVELINK_API UPmmtalkLiveLinkSourceSettings : public ULiveLinkSourceSettings
{
	GENERATED_BODY()

public:
	/** Evaluation mode Latest by default: frames are shown as they arrive, the lowest latency. */
	UPmmtalkLiveLinkSourceSettings();

	/** Edit these here: the source applies them at once (a new port or address rebinds the socket). */
	UPROPERTY(EditAnywhere, Category = "pmmtalk", meta = (ShowOnlyInnerProperties))
	FPmmtalkLiveLinkOptions Options;
};
