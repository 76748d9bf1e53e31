// Project Settings > Plugins > pmmtalk Live Link: the options a new source starts with (the Live Link
// window's "+ Source" entry and the Blueprint defaults), stored in the project's DefaultGame.ini.
#pragma once

#include "CoreMinimal.h"
#include "Engine/DeveloperSettings.h"
#include "PmmtalkLiveLinkOptions.h"

#include "PmmtalkLiveLinkSettings.generated.h"

UCLASS(Config = Game, DefaultConfig, meta = (DisplayName = "pmmtalk Live Link"))
class PMMTALKLIVELINK_API UPmmtalkLiveLinkSettings : public UDeveloperSettings
{
	GENERATED_BODY()

public:
	/** Options of every new pmmtalk source (each source's own settings can differ afterwards). */
	UPROPERTY(Config, EditAnywhere, Category = "New sources", meta = (ShowOnlyInnerProperties))
	FPmmtalkLiveLinkOptions Defaults;

	virtual FName GetCategoryName() const override;
#if WITH_EDITOR
	virtual FText GetSectionText() const override;
	virtual FText GetSectionDescription() const override;
#endif
};
