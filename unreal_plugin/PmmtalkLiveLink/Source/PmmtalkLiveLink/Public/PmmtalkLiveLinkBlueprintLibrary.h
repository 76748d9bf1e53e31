// Creating and removing a pmmtalk source from Blueprint: packaged games have no Live Link window.
#pragma once

#include "CoreMinimal.h"
#include "ILiveLinkSource.h"
#include "Kismet/BlueprintFunctionLibrary.h"
#include "PmmtalkLiveLinkOptions.h"

#include "PmmtalkLiveLinkBlueprintLibrary.generated.h"

UCLASS()
class PMMTALKLIVELINK_API UPmmtalkLiveLinkBlueprintLibrary : public UBlueprintFunctionLibrary
{
	GENERATED_BODY()

public:
	/**
	 * Starts receiving the pmmtalk-live daemon's stream as Live Link subjects (e.g. at BeginPlay).
	 * False, with a line in the log, if the options are invalid or Live Link is not loaded. A port that
	 * is already taken still creates the source: its status says "port in use".
	 */
	UFUNCTION(BlueprintCallable, Category = "pmmtalk|Live Link")
	static bool CreatePmmtalkLiveLinkSource(const FPmmtalkLiveLinkOptions& Options, FLiveLinkSourceHandle& SourceHandle);

	/** Stops the source and removes its subjects (e.g. at EndPlay). False if the handle holds no source. */
	UFUNCTION(BlueprintCallable, Category = "pmmtalk|Live Link")
	static bool RemovePmmtalkLiveLinkSource(UPARAM(ref) FLiveLinkSourceHandle& SourceHandle);

	/** The defaults from Project Settings > Plugins > pmmtalk Live Link, to change a field or two before creating. */
	UFUNCTION(BlueprintPure, Category = "pmmtalk|Live Link")
	static FPmmtalkLiveLinkOptions GetPmmtalkLiveLinkDefaults();

	/** The connection string a Live Link preset stores for a source with these options. */
	UFUNCTION(BlueprintPure, Category = "pmmtalk|Live Link")
	static FString MakePmmtalkConnectionString(const FPmmtalkLiveLinkOptions& Options);
};
