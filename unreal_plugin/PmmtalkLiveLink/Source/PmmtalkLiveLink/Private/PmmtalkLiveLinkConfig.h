// Between the engine's types and the protocol core's: options <-> source configuration, FString <-> UTF-8.
#pragma once

#include "CoreMinimal.h"
#include "PmmtalkLiveLinkOptions.h"

#include "Protocol/PmmtalkConnection.h"

#include <string>

namespace PmmtalkLiveLink
{
FString ToFString(const std::string& Utf8);
std::string ToUtf8(const FString& Text);

Pmmtalk::FSourceConfig ToSourceConfig(const FPmmtalkLiveLinkOptions& Options);
FPmmtalkLiveLinkOptions ToOptions(const Pmmtalk::FSourceConfig& Config);

/** Project Settings > Plugins > pmmtalk Live Link, as a source configuration. */
Pmmtalk::FSourceConfig ProjectDefaults();
}  // namespace PmmtalkLiveLink
