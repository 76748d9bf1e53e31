// The Live Link window's "+ Source > pmmtalk" entry, and how Live Link recreates a source from a preset.
#pragma once

#include "CoreMinimal.h"
#include "LiveLinkSourceFactory.h"

#include "PmmtalkLiveLinkSourceFactory.generated.h"

UCLASS()
class PMMTALKLIVELINK_API UPmmtalkLiveLinkSourceFactory : public ULiveLinkSourceFactory
{
	GENERATED_BODY()

public:
	virtual FText GetSourceDisplayName() const override;
	virtual FText GetSourceTooltip() const override;

	/** A plain menu entry: the source starts with the Project Settings defaults, edited afterwards in its details. */
	virtual EMenuType GetMenuType() const override;

	/** Empty (the menu entry): the Project Settings defaults; otherwise a connection string from a preset. */
	virtual TSharedPtr<ILiveLinkSource> CreateSource(const FString& ConnectionString) const override;
};
