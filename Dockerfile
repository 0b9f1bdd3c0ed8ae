# syntax=docker/dockerfile:1
# Targets: `api` and `worker`. The worker's TorchSharp backend is a build argument:
#   docker build --target worker --build-arg TORCH_DEVICE=cuda .   (TorchSharp-cuda-linux; needs an NVIDIA runtime)
#   docker build --target worker .                                   (TorchSharp-cpu, the default)
# Ubuntu 24.04 (noble) images ship GCC 13's libstdc++, so TorchSharp loads without the Debian 12 patch.

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
ARG TORCH_DEVICE=cpu
# Node and npm build the /ui dashboard (npm ci + esbuild, run by the Api's build) and the Worker's chat-template renderer
# (@huggingface/jinja bundled the same way, see src/Worker/ChatTemplates); nothing is fetched at run time.
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props TuningService.sln ./
COPY build/ build/
COPY src/Domain/TuningService.Domain.csproj src/Domain/
COPY src/Api/TuningService.Api.csproj src/Api/
COPY src/Worker/TuningService.Worker.csproj src/Worker/
RUN dotnet restore src/Api/TuningService.Api.csproj \
 && dotnet restore src/Worker/TuningService.Worker.csproj -p:TorchDevice=${TORCH_DEVICE}
COPY src/ src/
RUN dotnet publish src/Api/TuningService.Api.csproj -c Release --no-restore -o /out/api \
 && dotnet publish src/Worker/TuningService.Worker.csproj -c Release --no-restore -p:TorchDevice=${TORCH_DEVICE} -o /out/worker

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS api
WORKDIR /app
COPY --from=build /out/api .
ENV ASPNETCORE_URLS=http://+:8080 \
    Tuning__ArtifactsRoot=/var/lib/tuning/artifacts \
    Tuning__ModelsRoot=/var/lib/tuning/models
USER app
EXPOSE 8080
ENTRYPOINT ["dotnet", "TuningService.Api.dll"]

# aspnet, not runtime: the inference role (Worker__Role=inference) hosts Kestrel.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS worker
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /out/worker .
ENV Tuning__ArtifactsRoot=/var/lib/tuning/artifacts \
    Tuning__ModelsRoot=/var/lib/tuning/models
USER app
STOPSIGNAL SIGTERM
ENTRYPOINT ["dotnet", "TuningService.Worker.dll"]
