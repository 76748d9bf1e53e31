// What a pmmtalk Live Link source listens to and how it treats the stream: shown in the source's details
// panel, in Project Settings (the defaults) and as a Blueprint struct (creating a source at runtime).
#pragma once

#include "CoreMinimal.h"

#include "PmmtalkLiveLinkOptions.generated.h"

USTRUCT(BlueprintType)
struct PMMTALKLIVELINK_API FPmmtalkLiveLinkOptions
{
	GENERATED_BODY()

public:
	/** UDP port the daemon sends its OSC stream to (pmmtalk-live serve --osc HOST:PORT; 9000 by default). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "pmmtalk", meta = (ClampMin = "1", ClampMax = "65535"))
	int32 Port = 9000;

	/** 127.0.0.1 receives from this machine only; 0.0.0.0 from every network (allow UDP in the firewall). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "pmmtalk")
	FString BindAddress = TEXT("127.0.0.1");

	/**
	 * Comma-separated subjects to receive (e.g. "Ada,Bob"); empty receives every subject in the stream.
	 * Listed subjects (or "pmmtalk" when empty) appear at once with the 61 Live Link Face curves.
	 */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "pmmtalk")
	FString SubjectFilter;

	/** While the stream is quiet, keep each subject alive with its last frame (Live Link would mark it unresponsive). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "pmmtalk")
	bool bKeepAlive = true;

	/** Quiet this many seconds, a kept-alive subject goes to the neutral pose (all curves 0); 0 holds the last pose. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "pmmtalk", meta = (ClampMin = "0", ClampMax = "86400", EditCondition = "bKeepAlive"))
	float NeutralAfterSeconds = 0.0f;

	/** Also accept VMC blend shapes (/VMC/Ext/Blend/Val + /VMC/Ext/Blend/Apply) on this port, as subject VmcSubject. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "pmmtalk|VMC")
	bool bReceiveVmc = false;

	/** The Live Link subject VMC blend shapes drive. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "pmmtalk|VMC", meta = (EditCondition = "bReceiveVmc"))
	FString VmcSubject = TEXT("VMC");
};
